package stream

import "time"

// Limits bound the TCP and TLS connections of clients. Zero fields take
// the defaults named on each.
type Limits struct {
	// Connections bounds all client connections (default 16384);
	// ConnectionsPerSource those from one source, an IPv4 address or an
	// IPv6 /64 (netx.Source; default 64).
	Connections, ConnectionsPerSource int
	// ConnectionRate and ConnectionBurst are a token bucket of new
	// connections per source (an IPv4 address or an IPv6 /64): a
	// connection beyond it is closed as soon as it is accepted, before
	// its TLS handshake, and counted (default 20 a second, burst 100). A
	// negative ConnectionRate sets no limit.
	ConnectionRate  float64
	ConnectionBurst int
	// HandshakeTimeout bounds the wait for a connection's first bytes and
	// its handshake (default 10s).
	HandshakeTimeout time.Duration
	// FrameTimeout bounds how long a begun frame may take to arrive in
	// full (default 10s), so a client that sends part of a message and
	// stops is disconnected.
	FrameTimeout time.Duration
	// IdleTimeout closes a connection that holds no allocation and sends
	// nothing for this long (default 30s).
	IdleTimeout time.Duration
	// UnheldLifetime closes a connection that holds no allocation this
	// long after it was accepted (default 60s), whatever it sends: frames
	// do not extend it. Once the connection holds an allocation
	// (Conn.Hold) it no longer applies; when the connection stops holding
	// one, it runs again in full from then, as for a new connection. A
	// connection that turned raw (an RFC 6062 client data connection) is
	// not subject to it.
	UnheldLifetime time.Duration
	// WriteTimeout disconnects a client that takes longer than this to
	// accept the bytes queued for it (default 10s).
	WriteTimeout time.Duration
	// MaxFrame is the largest frame accepted from a client (default 9216
	// bytes, the largest datagram the UDP path relays); a larger length
	// field closes the connection.
	MaxFrame int
	// WriteQueue is the number of bytes queued for a client before media
	// to it is dropped (default 32 KiB). The queue's buffers grow to it
	// as needed: a connection that is only answered keeps small ones.
	WriteQueue int
}

const (
	defaultConnections = 16384
	defaultPerSource   = 64
	// defaultConnectionRate and defaultConnectionBurst: clients behind
	// one NAT share a source; a browser opens one or two TCP/TLS
	// connections per TURN server when a call starts, so 100 at once and
	// 20 a second thereafter serve a large office starting its meetings
	// on the hour (with more than 64 of its clients on TCP at once it
	// needs a higher ConnectionsPerSource anyway), while one source can
	// make the edge perform at most 20 TLS handshakes a second.
	defaultConnectionRate  = 20
	defaultConnectionBurst = 100
	// connectionRateSources is the number of sources the connection rate
	// limiter keeps (policy.SourceLimiter: 24 bytes each, allocated once).
	connectionRateSources = 1 << 14
	defaultHandshake      = 10 * time.Second
	defaultFrameTimeout   = 10 * time.Second
	defaultIdleTimeout    = 30 * time.Second
	defaultLifetime       = 60 * time.Second
	defaultWriteTimeout   = 10 * time.Second
	defaultMaxFrame       = 9216
	defaultWriteQueue     = 32 << 10
	// MaxFrame stays between a STUN header with 1 KiB of attributes and
	// the largest STUN message a 16-bit length allows.
	minMaxFrame = 20 + 1024
	maxMaxFrame = 20 + 0xFFFF
	readSlack   = 4096 // read room beyond one frame
	// smallRead is the read buffer of a connection that holds no
	// allocation: room for any request such a client needs to send (a
	// browser's Allocate is a few hundred bytes); a frame that does not
	// fit, or an allocation, grows it to MaxFrame+readSlack.
	smallRead = 1024
	// smallQueue is the first size of a write queue buffer, which grows
	// by doubling up to WriteQueue: an answer to an unauthenticated
	// request is under 200 bytes.
	smallQueue = 512
	// heldIdleTimeout is the idle timeout of a connection that holds an
	// allocation: the allocation's own lifetime rules it.
	heldIdleTimeout = time.Hour
)

// WithDefaults returns l with its zero fields filled in and MaxFrame and
// WriteQueue within their bounds.
func (l Limits) WithDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.Connections, defaultConnections)
	def(&l.ConnectionsPerSource, defaultPerSource)
	def(&l.ConnectionBurst, defaultConnectionBurst)
	if l.ConnectionRate == 0 {
		l.ConnectionRate = defaultConnectionRate
	}
	def(&l.MaxFrame, defaultMaxFrame)
	def(&l.WriteQueue, defaultWriteQueue)
	defd(&l.HandshakeTimeout, defaultHandshake)
	defd(&l.FrameTimeout, defaultFrameTimeout)
	defd(&l.IdleTimeout, defaultIdleTimeout)
	defd(&l.UnheldLifetime, defaultLifetime)
	defd(&l.WriteTimeout, defaultWriteTimeout)
	l.MaxFrame = min(max(l.MaxFrame, minMaxFrame), maxMaxFrame)
	l.WriteQueue = max(l.WriteQueue, l.MaxFrame+128)
	return l
}
