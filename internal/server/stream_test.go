package server

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/pki"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
	"github.com/avedge/avedge/internal/turntest"
)

// testCA issues the TLS certificates of stream tests.
type testCA struct {
	t  *testing.T
	ca *pki.CA
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	now := time.Now()
	ca, err := pki.NewCA("avedge test CA", now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{t: t, ca: ca}
}

// leaf returns a server certificate for 127.0.0.1.
func (c *testCA) leaf() tls.Certificate {
	c.t.Helper()
	now := time.Now()
	kp, err := c.ca.Issue(pki.Request{Usage: pki.ServerAuth, Names: []string{"127.0.0.1"}, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(30 * time.Minute)})
	if err != nil {
		c.t.Fatal(err)
	}
	return kp.TLS()
}

func (c *testCA) clientConfig() *tls.Config {
	return &tls.Config{RootCAs: c.ca.Pool(), ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// streamEdge is a test edge with one TCP listener for plain TURN and TLS.
type streamEdge struct {
	*testEdge
	tcp   netip.AddrPort
	ca    *testCA
	certs *CertStore
}

func newStreamEdge(t *testing.T, mod func(*Options)) *streamEdge {
	t.Helper()
	return newStreamEdgeAuth(t, nil, mod)
}

// newStreamEdgeAuth is newStreamEdge with authMod applied to the
// authenticator's options.
func newStreamEdgeAuth(t *testing.T, authMod func(*auth.Options), mod func(*Options)) *streamEdge {
	t.Helper()
	se := &streamEdge{ca: newTestCA(t), certs: new(CertStore)}
	se.certs.Set(se.ca.leaf())
	se.testEdge = newTestEdgeAuth(t, authMod, func(o *Options) {
		o.StreamListeners = []StreamListener{{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Plain: true, Certs: se.certs}}
		if mod != nil {
			mod(o)
		}
	})
	se.tcp = se.srv.StreamAddrs()[0]
	return se
}

func (se *streamEdge) dial(useTLS bool) net.Conn {
	se.t.Helper()
	var (
		c   net.Conn
		err error
	)
	if useTLS {
		c, err = tls.Dial("tcp", se.tcp.String(), se.ca.clientConfig())
	} else {
		c, err = net.Dial("tcp", se.tcp.String())
	}
	if err != nil {
		se.t.Fatal(err)
	}
	se.t.Cleanup(func() { c.Close() })
	return c
}

// readFrame reads one STUN message or padded ChannelData message.
func readFrame(t *testing.T, c net.Conn) []byte {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	hdr := make([]byte, 4)
	if _, err := io.ReadFull(c, hdr); err != nil {
		t.Fatalf("read: %v", err)
	}
	size, err := frameSize(hdr, stunproto.HeaderSize+0xFFFF)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, size)
	copy(b, hdr)
	if _, err := io.ReadFull(c, b[4:]); err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

func bindingRequest(t *testing.T) *stun.Message {
	t.Helper()
	m, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// wantBindingResponse reads a frame and checks it answers req.
func wantBindingResponse(t *testing.T, c net.Conn, req *stun.Message) {
	t.Helper()
	m := new(stun.Message)
	if err := stun.Decode(readFrame(t, c), m); err != nil {
		t.Fatal(err)
	}
	if m.Type != stun.BindingSuccess || m.TransactionID != req.TransactionID {
		t.Fatalf("got %v %x, want binding success %x", m.Type, m.TransactionID, req.TransactionID)
	}
	var mapped stunproto.XORMappedAddress
	if err := mapped.GetFrom(m); err != nil || mapped.Addr.String() != c.LocalAddr().String() {
		t.Fatalf("XOR-MAPPED-ADDRESS %v (%v), want %v", mapped.Addr, err, c.LocalAddr())
	}
}

// paddedChannelData is a ChannelData message for num and payload padded to
// a multiple of four bytes, as TCP and TLS carry it (RFC 8656 §12.5).
func paddedChannelData(num uint16, payload []byte) []byte {
	b := channelData(num, payload)
	return append(b, make([]byte, stunproto.ChannelDataPadding(len(payload)))...)
}

// allocateUDP makes a UDP allocation over the stream and returns its
// relayed address.
func (c *streamClient) allocateUDP() netip.AddrPort {
	c.t.Helper()
	r := c.do(stun.MethodAllocate, udpTransport)
	wantCode(c.t, r, 0)
	var relayed stunproto.XORRelayedAddress
	if err := relayed.GetFrom(r); err != nil {
		c.t.Fatal(err)
	}
	return relayed.Addr
}

// sendRound sends msg in a Send indication to the echo peer and checks that
// it comes back in a Data indication from the peer.
func (c *streamClient) sendRound(echo *peer, msg []byte) {
	c.t.Helper()
	send := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		peerAttr(echo.addr()), stunproto.Data(msg), stun.Fingerprint)
	if _, err := c.conn.Write(send.Raw); err != nil {
		c.t.Fatal(err)
	}
	m := c.readMessage()
	var data stunproto.Data
	var from stunproto.XORPeerAddress
	if m.Type != stun.NewType(stun.MethodData, stun.ClassIndication) || data.GetFrom(m) != nil || from.GetFrom(m) != nil {
		c.t.Fatalf("got %v, want a Data indication", m)
	}
	if !bytes.Equal(data, msg) || from.Addr != echo.addr() {
		c.t.Fatalf("Data indication %q from %v, want %q from %v", data, from.Addr, msg, echo.addr())
	}
}

// TestStreamUDPRelay drives a UDP relay over TCP and over TLS: Send
// indications out and Data indications back, then a channel with padded
// ChannelData both ways, payload sizes taking every padding; then closing
// the connection ends the allocation and frees the relay port.
func TestStreamUDPRelay(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			se := newStreamEdge(t, nil)
			u, p := se.credential("alice", time.Hour)
			c := se.newStreamClientOver(useTLS, u, p)
			relayed := c.allocateUDP()
			echo := newEchoPeer(t, "127.0.0.1")
			wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(echo.addr())), 0)

			const rounds = 40
			for i := range rounds / 2 {
				c.sendRound(echo, bytes.Repeat([]byte{byte('a' + i%26)}, 1+i%8))
			}
			wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4001), peerAttr(echo.addr())), 0)
			for i := rounds / 2; i < rounds; i++ {
				msg := bytes.Repeat([]byte{byte('a' + i%26)}, 1+i%8)
				if _, err := c.conn.Write(paddedChannelData(0x4001, msg)); err != nil {
					t.Fatal(err)
				}
				frame := readFrame(t, c.conn)
				if len(frame)%4 != 0 {
					t.Fatalf("round %d: ChannelData frame of %d bytes, want padding to a multiple of 4", i, len(frame))
				}
				num, got, err := stunproto.ParseChannelData(frame)
				if err != nil || num != 0x4001 || !bytes.Equal(got, msg) {
					t.Fatalf("round %d: got channel %#x %q (%v), want %q", i, num, got, err, msg)
				}
			}
			waitFor(t, func() bool {
				st := se.srv.Stats()
				return st.ToPeerPackets == rounds && st.ToClientPackets == rounds
			})
			c.conn.Close()
			rec := se.waitEnded()
			if rec.Reason != "connection closed" || rec.Relayed != relayed || rec.ToPeerPackets != rounds {
				t.Fatalf("record %+v, want connection closed of %v after %d packets", rec, relayed, rounds)
			}
			free, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(relayed))
			if err != nil {
				t.Fatalf("relay port not freed: %v", err)
			}
			free.Close()
		})
	}
}

// TestStreamFraming: two messages in one write, and one message split over
// several writes, are each answered once.
func TestStreamFraming(t *testing.T) {
	se := newStreamEdge(t, nil)
	c := se.dial(false)
	a, b := bindingRequest(t), bindingRequest(t)
	if _, err := c.Write(append(append([]byte(nil), a.Raw...), b.Raw...)); err != nil {
		t.Fatal(err)
	}
	wantBindingResponse(t, c, a)
	wantBindingResponse(t, c, b)
	m := bindingRequest(t)
	for _, part := range [][]byte{m.Raw[:1], m.Raw[1:3], m.Raw[3:21], m.Raw[21:]} {
		if _, err := c.Write(part); err != nil {
			t.Fatal(err)
		}
	}
	wantBindingResponse(t, c, m)
}

// TestStreamSniff: one port answers plain TURN and TLS, and closes a
// connection that starts with neither.
func TestStreamSniff(t *testing.T) {
	se := newStreamEdge(t, nil)
	for _, useTLS := range []bool{false, true} {
		c := se.dial(useTLS)
		m := bindingRequest(t)
		if _, err := c.Write(m.Raw); err != nil {
			t.Fatal(err)
		}
		wantBindingResponse(t, c, m)
	}
	c := se.dial(false)
	if _, err := c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n")); err != nil {
		t.Fatal(err)
	}
	turntest.WantClosed(t, c)
	waitFor(t, func() bool { return se.srv.Stats().Stream.NotTURN == 1 })
}

// TestStreamHygiene: a partial frame is closed after the frame timeout
// (slowloris), an oversized length field at once, a silent connection after
// the idle timeout; each is counted.
func TestStreamHygiene(t *testing.T) {
	se := newStreamEdge(t, func(o *Options) {
		o.Stream.FrameTimeout = 100 * time.Millisecond
		o.Stream.IdleTimeout = 100 * time.Millisecond
		o.Stream.HandshakeTimeout = 100 * time.Millisecond
	})
	m := bindingRequest(t)
	cases := []struct {
		name  string
		send  []byte
		count func(stats.StreamStats) uint64
	}{
		{"partial frame", m.Raw[:10], func(s stats.StreamStats) uint64 { return s.FrameTimeouts }},
		{"oversized STUN", []byte{0x00, 0x01, 0xFF, 0xF0}, func(s stats.StreamStats) uint64 { return s.FrameTooLarge }},
		{"oversized ChannelData", []byte{0x40, 0x00, 0x30, 0x00}, func(s stats.StreamStats) uint64 { return s.FrameTooLarge }},
		{"idle", nil, func(s stats.StreamStats) uint64 { return s.IdleTimeouts + s.HandshakeFailed }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.count(se.srv.Stats().Stream)
			c := se.dial(false)
			if tc.send != nil {
				if _, err := c.Write(tc.send); err != nil {
					t.Fatal(err)
				}
			}
			turntest.WantClosed(t, c)
			waitFor(t, func() bool { return tc.count(se.srv.Stats().Stream) == before+1 })
		})
	}
}

// waitFor polls cond, bounded by ioTimeout: for counters that a goroutine
// updates right after the event the test observed.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(ioTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestStreamLimits: connections over the per-source limit are closed at
// once and counted; the admitted ones keep working.
func TestStreamLimits(t *testing.T) {
	se := newStreamEdge(t, func(o *Options) { o.Stream.ConnectionsPerSource = 2 })
	a, b := se.dial(false), se.dial(false)
	for _, c := range []net.Conn{a, b} {
		m := bindingRequest(t)
		if _, err := c.Write(m.Raw); err != nil {
			t.Fatal(err)
		}
		wantBindingResponse(t, c, m)
	}
	turntest.WantClosed(t, se.dial(false))
	if st := se.srv.Stats().Stream; st.RefusedPerSource != 1 || st.Open != 2 {
		t.Fatalf("stats %+v, want 1 refused per source and 2 open", st)
	}
	a.Close()
	waitFor(t, func() bool { return se.srv.Stats().Stream.Open == 1 })
	c := se.dial(false)
	m := bindingRequest(t)
	if _, err := c.Write(m.Raw); err != nil {
		t.Fatal(err)
	}
	wantBindingResponse(t, c, m)

	total := newStreamEdge(t, func(o *Options) { o.Stream.Connections = 1 })
	total.dial(false)
	waitFor(t, func() bool { return total.srv.Stats().Stream.Open == 1 })
	turntest.WantClosed(t, total.dial(false))
	if st := total.srv.Stats().Stream; st.RefusedTotal != 1 {
		t.Fatalf("stats %+v, want 1 refused in total", st)
	}
}

// TestStreamTLSReload: a new certificate is served to new handshakes while
// an established TLS connection keeps working.
func TestStreamTLSReload(t *testing.T) {
	se := newStreamEdge(t, nil)
	old := se.dial(true).(*tls.Conn)
	oldSerial := old.ConnectionState().PeerCertificates[0].SerialNumber
	next := se.ca.leaf()
	se.certs.Set(next)
	m := bindingRequest(t)
	if _, err := old.Write(m.Raw); err != nil {
		t.Fatal(err)
	}
	wantBindingResponse(t, old, m)
	fresh := se.dial(true).(*tls.Conn)
	got := fresh.ConnectionState().PeerCertificates[0]
	want, err := x509.ParseCertificate(next.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if got.SerialNumber.Cmp(want.SerialNumber) != 0 || got.SerialNumber.Cmp(oldSerial) == 0 {
		t.Fatalf("new handshake got serial %v, want the reloaded %v", got.SerialNumber, want.SerialNumber)
	}
}
