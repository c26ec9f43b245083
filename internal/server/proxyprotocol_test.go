package server

import (
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/server/stream"
	"github.com/avedge/avedge/internal/stunproto"
)

// newProxiedEdge is a stream edge whose listener is behind a proxy at
// 127.0.0.1 sending PROXY protocol v2 headers.
func newProxiedEdge(t *testing.T) *streamEdge {
	t.Helper()
	return newStreamEdge(t, func(o *Options) {
		o.StreamListeners[0].Proxy = stream.Proxy{Mode: stream.ProxyV2, Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	})
}

// proxyHeaderV2 is a version 2 PROXY header naming client as the source
// of a TCP connection to dst.
func proxyHeaderV2(client, dst netip.AddrPort) []byte {
	b := []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c")
	b = append(b, client.Addr().AsSlice()...)
	b = append(b, dst.Addr().AsSlice()...)
	b = binary.BigEndian.AppendUint16(b, client.Port())
	return binary.BigEndian.AppendUint16(b, dst.Port())
}

// dialAs connects to the edge from 127.0.0.1 as a proxy would, sending a
// header that names client, then speaks TLS over it when useTLS.
func (se *streamEdge) dialAs(client netip.AddrPort, useTLS bool) net.Conn {
	se.t.Helper()
	c, err := net.Dial("tcp", se.tcp.String())
	if err != nil {
		se.t.Fatal(err)
	}
	se.t.Cleanup(func() { c.Close() })
	if _, err := c.Write(proxyHeaderV2(client, netip.MustParseAddrPort("198.51.100.1:443"))); err != nil {
		se.t.Fatal(err)
	}
	if !useTLS {
		return c
	}
	tc := tls.Client(c, se.ca.clientConfig())
	_ = tc.SetDeadline(time.Now().Add(ioTimeout))
	if err := tc.Handshake(); err != nil {
		se.t.Fatal(err)
	}
	_ = tc.SetDeadline(time.Time{})
	return tc
}

// TestProxyProtocolClientAddress: behind a proxy, the client the PROXY
// header names is the one the relay sees: XOR-MAPPED-ADDRESS of a Binding
// and of an Allocate, and the client address of the allocation's record.
func TestProxyProtocolClientAddress(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			se := newProxiedEdge(t)
			from := netip.MustParseAddrPort("192.0.2.7:40000")
			conn := se.dialAs(from, useTLS)

			req := bindingRequest(t)
			if _, err := conn.Write(req.Raw); err != nil {
				t.Fatal(err)
			}
			m := new(stun.Message)
			if err := stun.Decode(readFrame(t, conn), m); err != nil {
				t.Fatal(err)
			}
			var mapped stunproto.XORMappedAddress
			if err := mapped.GetFrom(m); err != nil || mapped.Addr != from {
				t.Fatalf("Binding XOR-MAPPED-ADDRESS %v (%v), want %v", mapped.Addr, err, from)
			}

			u, p := se.credential("alice", time.Hour)
			c := &streamClient{client: &client{t: t, user: u, pass: p}, conn: conn}
			r := c.do(stun.MethodAllocate, udpTransport)
			wantCode(t, r, 0)
			if err := mapped.GetFrom(r); err != nil || mapped.Addr != from {
				t.Fatalf("Allocate XOR-MAPPED-ADDRESS %v (%v), want %v", mapped.Addr, err, from)
			}
			conn.Close()
			if rec := se.waitEnded(); rec.Client != from {
				t.Fatalf("record client %v, want %v", rec.Client, from)
			}
		})
	}
}

// TestProxyProtocolNonceBinding: a nonce issued to the client one PROXY
// header names is not accepted from a client another header names through
// the same proxy, while the first client, on a new connection with the
// same header once its first has closed, may use it.
func TestProxyProtocolNonceBinding(t *testing.T) {
	se := newProxiedEdge(t)
	a := netip.MustParseAddrPort("192.0.2.7:40000")
	b := netip.MustParseAddrPort("192.0.2.8:40000")
	u, p := se.credential("alice", time.Hour)
	ca := &streamClient{client: &client{t: t, user: u, pass: p}, conn: se.dialAs(a, false)}
	wantCode(t, ca.do(stun.MethodAllocate, udpTransport), 0)

	cb := &streamClient{client: &client{t: t, user: u, pass: p, realm: ca.realm, nonce: ca.nonce}, conn: se.dialAs(b, false)}
	r := cb.roundTrip(cb.build(stun.MethodAllocate, udpTransport))
	if code := errorCode(r); code != stun.CodeStaleNonce && code != stun.CodeUnauthorized {
		t.Fatalf("A's nonce from B: error code %d, want 438 or 401", code)
	}
	var fresh stun.Nonce
	if err := fresh.GetFrom(r); err != nil || fresh.String() == ca.nonce {
		t.Fatalf("challenge to B with nonce %q (%v), want one other than A's", fresh, err)
	}

	// A's allocation ends first: the relay keys allocations by the client's
	// address, and a TCP client's is unique while its connection is open.
	ca.conn.Close()
	se.waitEnded()
	again := &streamClient{client: &client{t: t, user: u, pass: p, realm: ca.realm, nonce: ca.nonce}, conn: se.dialAs(a, false)}
	wantCode(t, again.roundTrip(again.build(stun.MethodAllocate, udpTransport)), 0)
}

// TestProxyProtocolUntrusted: a connection from outside the trusted
// proxies is closed with its forged header unanswered, and counted.
func TestProxyProtocolUntrusted(t *testing.T) {
	se := newProxiedEdge(t)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	c, err := d.Dial("tcp", se.tcp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	forged := proxyHeaderV2(netip.MustParseAddrPort("192.0.2.7:40000"), se.tcp)
	_, _ = c.Write(append(forged, bindingRequest(t).Raw...))
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	if n, err := c.Read(make([]byte, 64)); n > 0 || isTimeoutErr(err) {
		t.Fatalf("read %d bytes, %v; want the connection closed", n, err)
	}
	if st := se.srv.Stats().Stream; st.ProxyUntrusted != 1 || st.Accepted != 0 {
		t.Fatalf("stream stats %+v, want 1 untrusted, none accepted", st)
	}
}

// isTimeoutErr reports whether err is a deadline that ran out.
func isTimeoutErr(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
