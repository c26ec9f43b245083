package server

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/msturn"
)

// msClient is a test client of the [MS-TURN] dialect built on the msturn
// codec alone (no pion), over UDP or over a TCP connection with the
// dialect's framing (§2.1.4), behaving as libnice's OC2007R2 mode does: a
// first Allocate with MAGIC-COOKIE and MS-VERSION only, the 401 round
// trip, then requests carrying REALM, NONCE, USERNAME and
// MESSAGE-INTEGRITY, Send and Set Active Destination numbered with the
// allocation's MS-SEQUENCE-NUMBER.
type msClient struct {
	t      *testing.T
	udp    *net.UDPConn // nil over TCP
	stream net.Conn     // nil over UDP
	server netip.AddrPort
	user   string
	pass   string
	// version is the MS-VERSION sent (0: none); sha256 signs with the
	// HMAC-SHA256 key of MS-VERSION 3 and up.
	version uint32
	sha256  bool
	// realm and nonce are the 401's; seq is the allocation's connection
	// ID and the last number used; relayed is MAPPED-ADDRESS of the
	// Allocate success.
	realm, nonce string
	seq          msturn.Sequence
	relayed      netip.AddrPort
}

// msAttr adds attributes to a message being built.
type msAttr func(b *msturn.Builder)

func msU32(t msturn.AttrType, v uint32) msAttr {
	return func(b *msturn.Builder) { b.AddUint32(t, v) }
}

func msStr(t msturn.AttrType, s string) msAttr {
	return func(b *msturn.Builder) { b.AddString(t, s) }
}

func msBytes(t msturn.AttrType, v []byte) msAttr {
	return func(b *msturn.Builder) { b.Add(t, v) }
}

func msAddr(t msturn.AttrType, a netip.AddrPort) msAttr {
	return func(b *msturn.Builder) { b.AddAddress(t, a) }
}

func msSeq(s msturn.Sequence) msAttr {
	return func(b *msturn.Builder) { b.AddSequence(s) }
}

// msSign signs with key (msturn.Key or msturn.KeySHA256).
func msSign(key []byte) msAttr {
	return func(b *msturn.Builder) { b.Sign(msturn.NewIntegrity(key)) }
}

// newMSClient is an [MS-TURN] client on its own UDP socket on 127.0.0.1
// that speaks MS-VERSION 1, as libnice does.
func (e *testEdge) newMSClient(user, pass string) *msClient {
	e.t.Helper()
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	return e.msClientOn(conn, user, pass)
}

// msClientOn is an [MS-TURN] client on conn, which another client may
// share (the same 5-tuple).
func (e *testEdge) msClientOn(conn *net.UDPConn, user, pass string) *msClient {
	return &msClient{t: e.t, udp: conn, server: e.addr, user: user, pass: pass, version: 1}
}

// newMSStreamClient is an [MS-TURN] client over a TCP connection to the
// edge's stream listener, after the pseudo-TLS handshake when pseudoTLS.
func (se *streamEdge) newMSStreamClient(pseudoTLS bool, user, pass string) *msClient {
	se.t.Helper()
	conn := se.dial(false)
	if pseudoTLS {
		msPseudoTLS(se.t, conn)
	}
	return &msClient{t: se.t, stream: conn, server: se.tcp, user: user, pass: pass, version: 1}
}

// msClientHello is libnice's pseudo-TLS ClientHello (socket/pseudossl.c).
var msClientHello = []byte{
	0x16, 0x03, 0x01, 0x00, 0x2d, 0x01, 0x00, 0x00, 0x29, 0x03, 0x01, 0xc1, 0xfc, 0xd5, 0xa3, 0x6d, 0x93, 0xdd,
	0x7e, 0x0b, 0x45, 0x67, 0x3f, 0xec, 0x79, 0x85, 0xfb, 0xbc, 0x3f, 0xd6, 0x60, 0xc2, 0xce, 0x84, 0x85, 0x08,
	0x1b, 0x81, 0x21, 0xbc, 0xaa, 0x10, 0xfb, 0x00, 0x00, 0x02, 0x00, 0x18, 0x01, 0x00,
}

// msPseudoTLS sends the ClientHello on conn and checks that exactly the
// 83-byte ServerHello record comes back in one read, as libnice requires
// (it reads once into an 83-byte buffer and compares everything but the
// random and the session ID).
func msPseudoTLS(t *testing.T, conn net.Conn) {
	t.Helper()
	if _, err := conn.Write(msClientHello); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1024)
	_ = conn.SetReadDeadline(time.Now().Add(ioTimeout))
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("reading the ServerHello: %v", err)
	}
	if n != msturn.ServerHelloSize {
		t.Fatalf("first read returned %d bytes, want the %d-byte ServerHello record in one read", n, msturn.ServerHelloSize)
	}
	got := append([]byte(nil), buf[:n]...)
	clear(got[11:43]) // random
	clear(got[44:76]) // session ID
	want := append(append(append([]byte{0x16, 0x03, 0x01, 0x00, 0x4e, 0x02, 0x00, 0x00, 0x46, 0x03, 0x01},
		make([]byte, 32)...), 0x20), make([]byte, 32)...)
	want = append(want, 0x00, 0x18, 0x00, 0x0e, 0x00, 0x00, 0x00)
	if !bytes.Equal(got, want) {
		t.Fatalf("ServerHello\n% x\nwant (random and session ID zeroed)\n% x", got, want)
	}
}

func (c *msClient) addr() netip.AddrPort {
	if c.udp != nil {
		return c.udp.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	return c.stream.LocalAddr().(*net.TCPAddr).AddrPort()
}

// newTxID returns a random 16-byte transaction ID.
func newTxID() msturn.TxID {
	var id msturn.TxID
	_, _ = rand.Read(id[:])
	return id
}

// build returns a message of type typ: MAGIC-COOKIE, then attrs.
func (c *msClient) build(typ msturn.Type, id msturn.TxID, attrs ...msAttr) []byte {
	c.t.Helper()
	return msBuild(c.t, typ, id, attrs...)
}

// msBuild returns a message of type typ: MAGIC-COOKIE, then attrs.
func msBuild(tb testing.TB, typ msturn.Type, id msturn.TxID, attrs ...msAttr) []byte {
	tb.Helper()
	var b msturn.Builder
	b.Start(make([]byte, 0, 2048), typ, id)
	for _, a := range attrs {
		a(&b)
	}
	if b.Err() != nil {
		tb.Fatalf("building: %v", b.Err())
	}
	return b.Message()
}

// key is the long-term key of the client's credentials: MD5(user:realm:
// pass), or the HMAC-SHA256 one of MS-VERSION 3.
func (c *msClient) key() []byte {
	if c.sha256 {
		return msturn.KeySHA256(c.user, c.realm, c.pass, c.nonce)
	}
	return msturn.Key(c.user, c.realm, c.pass)
}

// creds are the attributes of an authenticated Allocate, in libnice's
// order after MS-VERSION: REALM, NONCE, USERNAME.
func (c *msClient) creds() []msAttr {
	return []msAttr{msStr(msturn.AttrRealm, c.realm), msStr(msturn.AttrNonce, c.nonce), msStr(msturn.AttrUsername, c.user)}
}

// versionAttr is MS-VERSION, when the client sends one.
func (c *msClient) versionAttr() []msAttr {
	if c.version == 0 {
		return nil
	}
	return []msAttr{msU32(msturn.AttrMSVersion, c.version)}
}

// allocateMsg is an authenticated Allocate: MS-VERSION, REALM, NONCE,
// USERNAME, extra, MESSAGE-INTEGRITY.
func (c *msClient) allocateMsg(id msturn.TxID, extra ...msAttr) []byte {
	attrs := append(append(c.versionAttr(), c.creds()...), extra...)
	return c.build(msturn.AllocateRequest, id, append(attrs, msSign(c.key()))...)
}

// writeMsg sends a message: a datagram, or a control frame.
func (c *msClient) writeMsg(b []byte) { c.write(msturn.FrameControl, b) }

// writeRaw sends end-to-end data: a bare datagram, or a data frame.
func (c *msClient) writeRaw(b []byte) { c.write(msturn.FrameData, b) }

func (c *msClient) write(typ byte, b []byte) {
	c.t.Helper()
	var err error
	if c.udp != nil {
		_, err = c.udp.WriteToUDPAddrPort(b, c.server)
	} else {
		frame := make([]byte, msturn.FrameHeaderSize, msturn.FrameHeaderSize+len(b))
		msturn.PutFrameHeader(frame, typ, len(b))
		_, err = c.stream.Write(append(frame, b...))
	}
	if err != nil {
		c.t.Fatal(err)
	}
}

// next returns what the server sends next: a datagram (typ 0), or a
// frame's type and payload.
func (c *msClient) next() (typ byte, b []byte) {
	c.t.Helper()
	if c.udp != nil {
		buf := make([]byte, 65536)
		_ = c.udp.SetReadDeadline(time.Now().Add(ioTimeout))
		n, from, err := c.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if from != c.server {
			c.t.Fatalf("datagram from %v, want the server %v", from, c.server)
		}
		return 0, buf[:n]
	}
	_ = c.stream.SetReadDeadline(time.Now().Add(ioTimeout))
	var h [msturn.FrameHeaderSize]byte
	if _, err := io.ReadFull(c.stream, h[:]); err != nil {
		c.t.Fatalf("read: %v", err)
	}
	typ, n, _, err := msturn.ParseFrameHeader(h[:])
	if err != nil {
		c.t.Fatalf("frame header % x: %v", h, err)
	}
	b = make([]byte, n)
	if _, err := io.ReadFull(c.stream, b); err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return typ, b
}

// nextMS returns the next message from the server, which must be one of
// the dialect (in a control frame over TCP).
func (c *msClient) nextMS() *msturn.Message {
	c.t.Helper()
	typ, b := c.next()
	if c.stream != nil && typ != msturn.FrameControl {
		c.t.Fatalf("frame type %#x, want a control frame", typ)
	}
	return msDecode(c.t, b)
}

// msDecode decodes an MS-TURN message and checks its attributes are laid
// out unpadded, each right after the previous value, up to the end.
func msDecode(t testing.TB, b []byte) *msturn.Message {
	t.Helper()
	m := new(msturn.Message)
	if err := m.Decode(b); err != nil {
		t.Fatalf("not an MS-TURN message (%v): % x", err, b)
	}
	msAttrTypes(t, b)
	return m
}

// msAttrTypes walks the attributes of b as the dialect lays them out
// (type, length, value, no padding) and returns their types in order.
func msAttrTypes(t testing.TB, b []byte) []msturn.AttrType {
	t.Helper()
	var types []msturn.AttrType
	p := msturn.HeaderSize
	for p < len(b) {
		if len(b)-p < 4 {
			t.Fatalf("%d stray bytes at the end of % x", len(b)-p, b)
		}
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		if p+4+n > len(b) {
			t.Fatalf("attribute %#04x at %d runs past the end of % x", binary.BigEndian.Uint16(b[p:]), p, b)
		}
		types = append(types, msturn.AttrType(binary.BigEndian.Uint16(b[p:])))
		p += 4 + n
	}
	return types
}

// roundTrip sends a request and returns the next message, which must
// answer it (same transaction ID).
func (c *msClient) roundTrip(req []byte) *msturn.Message {
	c.t.Helper()
	c.writeMsg(req)
	m := c.nextMS()
	if !bytes.Equal(m.TxID[:], req[4:msturn.HeaderSize]) {
		c.t.Fatalf("answer %#04x with transaction ID %x, want %x", m.Type, m.TxID, req[4:msturn.HeaderSize])
	}
	return m
}

// challenge sends libnice's first Allocate (MAGIC-COOKIE and MS-VERSION
// only), takes REALM and NONCE from the 401 and returns it.
func (c *msClient) challenge() *msturn.Message {
	c.t.Helper()
	r := c.roundTrip(c.build(msturn.AllocateRequest, newTxID(), c.versionAttr()...))
	msWantError(c.t, r, msturn.AllocateError, msturn.CodeUnauthorized)
	realm, err1 := r.Get(msturn.AttrRealm)
	nonce, err2 := r.Get(msturn.AttrNonce)
	if err1 != nil || err2 != nil {
		c.t.Fatalf("401 without REALM (%v) or NONCE (%v)", err1, err2)
	}
	c.realm, c.nonce = string(realm), string(nonce)
	return r
}

// allocate makes an allocation as libnice does (the 401 round trip, then
// the authenticated Allocate with extra) and returns the success
// response, whose integrity it checks; it keeps the relayed address and
// MS-SEQUENCE-NUMBER.
func (c *msClient) allocate(extra ...msAttr) *msturn.Message {
	c.t.Helper()
	c.challenge()
	r := c.roundTrip(c.allocateMsg(newTxID(), extra...))
	c.wantSuccess(r, msturn.AllocateResponse)
	relayed, err := r.Address(msturn.AttrMappedAddress)
	if err != nil {
		c.t.Fatalf("MAPPED-ADDRESS: %v", err)
	}
	if c.seq, err = r.Sequence(); err != nil {
		c.t.Fatalf("MS-SEQUENCE-NUMBER: %v", err)
	}
	c.relayed = relayed
	return r
}

// wantSuccess checks that r is of type typ, without ERROR-CODE, and
// signed with the client's key.
func (c *msClient) wantSuccess(r *msturn.Message, typ msturn.Type) {
	c.t.Helper()
	if r.Type != typ {
		code, _ := r.ErrorCode()
		c.t.Fatalf("answer %#04x (error %d), want %#04x", r.Type, code, typ)
	}
	if r.Contains(msturn.AttrErrorCode) {
		c.t.Fatal("success response with ERROR-CODE")
	}
	c.wantSigned(r)
}

// wantSigned checks r's MESSAGE-INTEGRITY with the client's key.
func (c *msClient) wantSigned(r *msturn.Message) {
	c.t.Helper()
	if err := msturn.NewIntegrity(c.key()).Check(r); err != nil {
		c.t.Fatalf("answer %#04x: MESSAGE-INTEGRITY does not verify with the client's key: %v", r.Type, err)
	}
}

// msWantError checks that r is an error response of type typ with code.
func msWantError(t testing.TB, r *msturn.Message, typ msturn.Type, code int) {
	t.Helper()
	got, err := r.ErrorCode()
	if r.Type != typ || err != nil || got != code {
		t.Fatalf("answer %#04x with ERROR-CODE %d (%v), want %#04x with %d", r.Type, got, err, typ, code)
	}
}

// nextSeq returns the client's MS-SEQUENCE-NUMBER for its next request.
func (c *msClient) nextSeq() msturn.Sequence {
	c.seq.Number++
	return c.seq
}

// sendMsg is a Send request in libnice's layout: USERNAME,
// DESTINATION-ADDRESS, MS-VERSION, MS-SEQUENCE-NUMBER, REALM, DATA,
// MESSAGE-INTEGRITY.
func (c *msClient) sendMsg(dest netip.AddrPort, data []byte, seq msturn.Sequence) []byte {
	return c.build(msturn.SendRequest, newTxID(), msStr(msturn.AttrUsername, c.user),
		msAddr(msturn.AttrDestinationAddress, dest), msU32(msturn.AttrMSVersion, 1), msSeq(seq),
		msStr(msturn.AttrRealm, c.realm), msBytes(msturn.AttrData, data), msSign(c.key()))
}

// send sends data to dest with a Send request, numbered with the next
// sequence number; it is never answered.
func (c *msClient) send(dest netip.AddrPort, data []byte) {
	c.t.Helper()
	c.writeMsg(c.sendMsg(dest, data, c.nextSeq()))
}

// sadMsg is a Set Active Destination in libnice's layout: USERNAME,
// MS-SEQUENCE-NUMBER, REALM, DESTINATION-ADDRESS, MESSAGE-INTEGRITY.
func (c *msClient) sadMsg(dest netip.AddrPort, seq msturn.Sequence) []byte {
	return c.build(msturn.SetActiveDestination, newTxID(), msStr(msturn.AttrUsername, c.user), msSeq(seq),
		msStr(msturn.AttrRealm, c.realm), msAddr(msturn.AttrDestinationAddress, dest), msSign(c.key()))
}

// sad makes dest the active destination and returns the answer.
func (c *msClient) sad(dest netip.AddrPort) *msturn.Message {
	c.t.Helper()
	return c.roundTrip(c.sadMsg(dest, c.nextSeq()))
}

// barrier makes sure the server has handled everything the client sent
// before: an unauthenticated Allocate is answered with a 401 by the
// worker that handles all of the client's messages in order, so that
// anything the server sent the client for them would come first.
func (c *msClient) barrier() {
	c.t.Helper()
	id := newTxID()
	c.writeMsg(c.build(msturn.AllocateRequest, id, c.versionAttr()...))
	m := c.nextMS()
	if m.TxID != id || m.Type != msturn.AllocateError {
		c.t.Fatalf("got %#04x %x before the answer to the barrier %x", m.Type, m.TxID, id)
	}
}

// wantDataIndication checks that b is a Data Indication from peer
// carrying data: MAGIC-COOKIE, REMOTE-ADDRESS (plain, not XORed), DATA,
// nothing else.
func wantDataIndication(t *testing.T, b []byte, peer netip.AddrPort, data []byte) {
	t.Helper()
	m := msDecode(t, b)
	if m.Type != msturn.DataIndication {
		t.Fatalf("got %#04x, want a Data Indication (0x0115)", m.Type)
	}
	want := []msturn.AttrType{msturn.AttrMagicCookie, msturn.AttrRemoteAddress, msturn.AttrData}
	if got := msAttrTypes(t, b); !slices.Equal(got, want) {
		t.Fatalf("Data Indication attributes %#04x, want %#04x", got, want)
	}
	raw, _ := m.Get(msturn.AttrRemoteAddress)
	ip := peer.Addr().As4()
	plain := append([]byte{0, 1, byte(peer.Port() >> 8), byte(peer.Port())}, ip[:]...)
	if !bytes.Equal(raw, plain) {
		t.Fatalf("REMOTE-ADDRESS % x, want % x (%v, not XORed)", raw, plain, peer)
	}
	if got, _ := m.Get(msturn.AttrData); !bytes.Equal(got, data) {
		t.Fatalf("DATA %q, want %q", got, data)
	}
}
