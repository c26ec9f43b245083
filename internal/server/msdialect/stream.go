package msdialect

import (
	"crypto/rand"
	"io"

	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/server/stream"
)

// FrameSize returns the size of the first frame of an [MS-TURN] byte
// stream in b (§2.1.4: a type, 0x02 for a TURN message or 0x03 for
// end-to-end data, a reserved zero byte and the length of what follows;
// no padding), or 0 when b does not hold its header yet: a stream.Framer.
// A broken header is stream.ErrNotFramed, a frame larger than max
// stream.ErrFrameTooLarge. It does not allocate.
func FrameSize(b []byte, max int) (int, error) {
	_, n, ok, err := msturn.ParseFrameHeader(b)
	switch {
	case err != nil:
		return 0, stream.ErrNotFramed
	case !ok:
		return 0, nil
	case msturn.FrameHeaderSize+n > max:
		return 0, stream.ErrFrameTooLarge
	}
	return msturn.FrameHeaderSize + n, nil
}

// Opens reports whether frames, the first complete frames of an [MS-TURN]
// connection, open with a control frame holding a message of the dialect.
// libnice opens a stray second connection with an unframed Allocate behind
// a data frame header; closing it at once lets the client go on.
func Opens(frames []byte) bool {
	_, n, ok, err := msturn.ParseFrameHeader(frames)
	return ok && err == nil && frames[0] == msturn.FrameControl &&
		msturn.Is(frames[msturn.FrameHeaderSize:msturn.FrameHeaderSize+n])
}

// protocol is how [MS-TURN] is framed on a stream.
var protocol = stream.Protocol{Framer: FrameSize, Opens: Opens, Dialect: stats.DialectMSTURN}

// PseudoTLS is the stream sniffer of the pseudo-TLS of [MS-TURN] §2.1.1,
// told apart from real TLS by its fixed record header and ClientHello
// prefix: it answers the handshake — the rest of the fixed ClientHello,
// then ServerHello and ServerHelloDone in one record and one write
// (clients read them in one go) — and claims the connection for the
// dialect's framing. A connection that opens like it but sends another
// ClientHello fails; one that is not it passes to the next sniffer.
func PseudoTLS(sn *stream.Sniff) (stream.Opening, stream.Verdict) {
	b, ok := sn.Peek(1)
	switch {
	case !ok:
		return stream.Opening{}, stream.Fail
	case !stream.IsTLS(b):
		return stream.Opening{}, stream.Pass
	}
	head, ok := sn.Peek(msturn.ClientHelloPrefixSize)
	switch {
	case !ok:
		return stream.Opening{}, stream.Fail
	case !msturn.IsClientHelloPrefix(head):
		return stream.Opening{}, stream.Pass
	}
	nc := sn.Conn()
	// Whatever an earlier sniffer peeked beyond head is part of the
	// ClientHello too (Peeked: at most 16 bytes, fewer than it holds).
	var hello [msturn.ClientHelloSize]byte
	n := copy(hello[:], sn.Peeked())
	if _, err := io.ReadFull(nc, hello[n:]); err != nil || !msturn.IsClientHello(hello[:]) {
		return stream.Opening{}, stream.Fail
	}
	var random, session [32]byte
	_, _ = rand.Read(random[:]) // never fails (crypto/rand)
	_, _ = rand.Read(session[:])
	var answer [msturn.ServerHelloSize]byte
	msturn.PutServerHello(answer[:], &random, &session)
	if _, err := nc.Write(answer[:]); err != nil {
		return stream.Opening{}, stream.Fail
	}
	p := protocol
	p.Transport = stats.TransportPseudoTLS
	return stream.Opening{Protocol: p, Conn: nc}, stream.Claim
}

// Framed is the stream sniffer of [MS-TURN] framing without pseudo-TLS,
// in the clear as plain TURN is (a TLS-only listener takes the dialect
// after pseudo-TLS only, as [MS-TURN] §2.1.1 has it on 443): a first byte
// of 0x02 or 0x03. No STUN message starts with 0x03 (a method above
// 0x07F): an opening data frame is libnice's stray connection, which Opens
// closes.
func Framed(sn *stream.Sniff) (stream.Opening, stream.Verdict) {
	b, ok := sn.Peek(1)
	switch {
	case !ok:
		return stream.Opening{}, stream.Fail
	case b[0] != msturn.FrameControl && b[0] != msturn.FrameData:
		return stream.Opening{}, stream.Pass
	}
	p := protocol
	p.Transport = stats.TransportTCP
	return stream.Opening{Protocol: p, Conn: sn.Conn(), Prefix: sn.Peeked()}, stream.Claim
}
