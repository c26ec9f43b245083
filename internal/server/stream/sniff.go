package stream

import (
	"crypto/tls"
	"net"

	"github.com/avedge/avedge/internal/netx"
	"github.com/avedge/avedge/internal/server/stats"
)

// Framer returns the size of the first frame of a byte stream in b, or 0
// when b does not hold its header yet; the size may exceed len(b): the
// frame is complete once len(b) reaches it. A frame larger than max is
// ErrFrameTooLarge, bytes that break the framing ErrNotFramed; the stream
// cannot be resynchronised after either. It must not allocate.
type Framer func(b []byte, max int) (int, error)

// Protocol is what a connection speaks once a Sniffer has claimed it.
type Protocol struct {
	// Framer frames the bytes the client sends.
	Framer Framer
	// Pad, if set, returns how many zero bytes to write after the
	// message b queued for the client (RFC 8656 §12.5 pads ChannelData
	// to four bytes on streams).
	Pad func(b []byte) int
	// Opens, if set, checks the first complete frames of the
	// connection: false closes it as not speaking the protocol.
	Opens func(frames []byte) bool
	// Transport and Dialect name the connection in the relay's
	// telemetry.
	Transport stats.Transport
	Dialect   stats.Dialect
}

// Opening is a connection a Sniffer claimed.
type Opening struct {
	Protocol
	// Conn is the connection to serve: the accepted one, or a TLS
	// connection over it.
	Conn net.Conn
	// Prefix holds bytes read from Conn already that begin its framed
	// stream.
	Prefix []byte
}

// Verdict is what a Sniffer makes of a connection.
type Verdict uint8

// The verdicts.
const (
	Pass  Verdict = iota // not the sniffer's: the next one looks
	Claim                // the sniffer's: served as its Opening says
	Fail                 // the sniffer's, or unreadable, but its handshake failed: closed and counted
)

// Sniffer looks at a new connection's first bytes through s and decides
// whether the connection is its protocol's. A listener tries its sniffers
// in order; one whose verdict is Pass must not have consumed anything but
// what it peeked.
type Sniffer func(s *Sniff) (Opening, Verdict)

// sniffRoom is the most a sniffer may peek.
const sniffRoom = 16

// Sniff is a new connection being sniffed: Peek reads its first bytes,
// within the handshake timeout, and keeps them for the next sniffer and
// for the framed stream.
type Sniff struct {
	conn net.Conn
	buf  [sniffRoom]byte
	n    int
}

// Conn returns the connection, for a sniffer that completes a handshake
// (it may read beyond the peeked bytes once it claims the connection).
func (s *Sniff) Conn() net.Conn { return s.conn }

// Peek returns the first n bytes of the connection, reading as needed; ok
// is false when the connection ended or timed out before n bytes came, or
// when n is outside 0 to 16 (the room a sniff keeps).
func (s *Sniff) Peek(n int) (b []byte, ok bool) {
	if n < 0 || n > sniffRoom {
		return nil, false
	}
	for s.n < n {
		m, err := s.conn.Read(s.buf[s.n:n])
		s.n += m
		if err != nil && s.n < n {
			return s.buf[:s.n], false
		}
	}
	return s.buf[:n], true
}

// Peeked returns every byte Peek has read.
func (s *Sniff) Peeked() []byte { return s.buf[:s.n] }

// tlsRecordHandshake is the first byte of a TLS connection: the content
// type of a handshake record (RFC 8446 §5.1).
const tlsRecordHandshake = 0x16

// TLS returns the sniffer of TLS 1.2 or later with cfg: a connection whose
// first byte opens a handshake record is claimed, its handshake completed,
// and its plaintext served as p (Transport tls).
func TLS(cfg *tls.Config, p Protocol) Sniffer {
	p.Transport = stats.TransportTLS
	return func(s *Sniff) (Opening, Verdict) {
		b, ok := s.Peek(1)
		switch {
		case !ok:
			return Opening{}, Fail
		case b[0] != tlsRecordHandshake:
			return Opening{}, Pass
		}
		tc := tls.Server(&netx.PrefixConn{Conn: s.conn, Prefix: s.Peeked()}, cfg)
		if tc.Handshake() != nil {
			return Opening{}, Fail
		}
		return Opening{Protocol: p, Conn: tc}, Claim
	}
}

// IsTLS reports whether b, a connection's first bytes, opens a TLS
// handshake record: a sniffer of a plain protocol leaves such a connection
// to TLS.
func IsTLS(b []byte) bool { return len(b) > 0 && b[0] == tlsRecordHandshake }
