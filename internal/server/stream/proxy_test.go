package stream

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/server/stats"
)

// remoteRecorder is a recorder that also tells each opened connection's
// client address.
type remoteRecorder struct {
	recorder
	remotes chan netip.AddrPort
}

func newRemoteRecorder() *remoteRecorder {
	return &remoteRecorder{recorder: recorder{closed: make(chan struct{})}, remotes: make(chan netip.AddrPort, 16)}
}

func (h *remoteRecorder) Opened(c *Conn) error {
	h.remotes <- c.Remote()
	return h.recorder.Opened(c)
}

func (h *remoteRecorder) Closed(*Conn) {}

// startProxied starts a Server on 127.0.0.1 whose listener is behind
// proxies as p says, with a sniffer of the length-framed protocol opening
// with 3.
func startProxied(t *testing.T, h Handler, lim Limits, p Proxy) *Server {
	t.Helper()
	if lim.HandshakeTimeout == 0 {
		lim.HandshakeTimeout = 5 * time.Second
	}
	s, err := Listen(Options{
		Listeners: []Listener{{Addr: netip.MustParseAddrPort("127.0.0.1:0"),
			Sniffers: []Sniffer{claimFirst(3, stats.TransportTCP)}, Proxy: p}},
		Limits:  lim,
		Handler: h,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Run()
	t.Cleanup(s.Stop)
	return s
}

// dialFrom connects to s from the loopback address from.
func dialFrom(t *testing.T, s *Server, from string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", s.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// headerV2 is a version 2 PROXY header naming src as the client of a TCP
// connection to dst (both IPv4).
func headerV2(src, dst netip.AddrPort) []byte {
	b := []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c")
	b = append(b, src.Addr().AsSlice()...)
	b = append(b, dst.Addr().AsSlice()...)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	return binary.BigEndian.AppendUint16(b, dst.Port())
}

var (
	trustLoopback1 = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	proxyDst       = netip.MustParseAddrPort("198.51.100.1:443")
	abcFrame       = []byte{3, 'a', 'b', 'c'}
)

// echoes writes a frame after what and wants it echoed: the connection is
// served.
func echoes(t *testing.T, c net.Conn, what []byte) {
	t.Helper()
	if _, err := c.Write(append(append([]byte(nil), what...), abcFrame...)); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, c, len(abcFrame)); !bytes.Equal(got, abcFrame) {
		t.Fatalf("echoed %x, want %x", got, abcFrame)
	}
}

// refused wants c closed by the server without an answer.
func refused(t *testing.T, c net.Conn) {
	t.Helper()
	b, err := io.ReadAll(c)
	if isTimeout(err) || len(b) > 0 {
		t.Fatalf("read %x, %v; want the connection closed", b, err)
	}
}

// TestProxyHeaderNamesClient: behind a trusted proxy, the client's address
// is the one its header names (both versions, and optional headers);
// the bytes after the header reach the sniffer and handler intact; a
// LOCAL header or none (where optional) keeps the proxy's own address.
func TestProxyHeaderNamesClient(t *testing.T) {
	client := netip.MustParseAddrPort("192.0.2.7:40000")
	v1 := []byte("PROXY TCP4 192.0.2.7 198.51.100.1 40000 443\r\n")
	local := []byte("\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00")
	for _, tc := range []struct {
		name   string
		mode   ProxyMode
		header []byte
		proxy  bool // the proxy's own address, not client
	}{
		{"v2", ProxyV2, headerV2(client, proxyDst), false},
		{"v1", ProxyV1, v1, false},
		{"optional v2", ProxyOptional, headerV2(client, proxyDst), false},
		{"optional v1", ProxyOptional, v1, false},
		{"optional none", ProxyOptional, nil, true},
		{"v2 local", ProxyV2, local, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRemoteRecorder()
			s := startProxied(t, h, Limits{}, Proxy{Mode: tc.mode, Trusted: trustLoopback1})
			c := dialFrom(t, s, "127.0.0.1")
			echoes(t, c, tc.header)
			want := client
			if tc.proxy {
				want = c.LocalAddr().(*net.TCPAddr).AddrPort()
			}
			if got := <-h.remotes; got != want {
				t.Fatalf("Conn.Remote() = %v, want %v", got, want)
			}
			if st := s.Stats(); st.Accepted != 1 || st.ProxyBadHeader != 0 || st.ProxyUntrusted != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestProxyUntrusted: a connection from outside the trusted proxies is
// closed at once, forged header and all, and counted; the handler never
// sees it.
func TestProxyUntrusted(t *testing.T) {
	h := newRemoteRecorder()
	s := startProxied(t, h, Limits{}, Proxy{Mode: ProxyOptional, Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}})
	c := dialFrom(t, s, "127.0.0.1")
	_, _ = c.Write(append(headerV2(netip.MustParseAddrPort("192.0.2.7:40000"), proxyDst), abcFrame...))
	refused(t, c)
	if st := s.Stats(); st.ProxyUntrusted != 1 || st.Accepted != 0 {
		t.Fatalf("stats %+v, want 1 untrusted and none accepted", st)
	}
	select {
	case r := <-h.remotes:
		t.Fatalf("opened a connection from %v", r)
	default:
	}
}

// TestProxyBadHeader: from a trusted proxy, a connection without the
// header its listener requires (none, the other version, a malformed one,
// none in time) is closed and counted.
func TestProxyBadHeader(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode ProxyMode
		send []byte
	}{
		{"none where v2", ProxyV2, abcFrame},
		{"v1 where v2", ProxyV2, []byte("PROXY TCP4 192.0.2.7 198.51.100.1 40000 443\r\n")},
		{"v2 where v1", ProxyV1, headerV2(netip.MustParseAddrPort("192.0.2.7:40000"), proxyDst)},
		{"malformed optional", ProxyOptional, []byte("PROXY TCP4 192.0.2.7\r\n")},
		{"nothing in time", ProxyV2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRemoteRecorder()
			s := startProxied(t, h, Limits{HandshakeTimeout: 200 * time.Millisecond}, Proxy{Mode: tc.mode, Trusted: trustLoopback1})
			c := dialFrom(t, s, "127.0.0.1")
			if _, err := c.Write(tc.send); err != nil {
				t.Fatal(err)
			}
			refused(t, c)
			if st := s.Stats(); st.ProxyBadHeader != 1 || st.Accepted != 0 {
				t.Fatalf("stats %+v, want 1 bad header and none accepted", st)
			}
		})
	}
}

// TestProxyPerSourceLimit: the per-source limit counts the clients the
// headers name, not the proxy: a third connection of one client is
// refused while another client's, through the same proxy, is served.
func TestProxyPerSourceLimit(t *testing.T) {
	h := newRemoteRecorder()
	s := startProxied(t, h, Limits{ConnectionsPerSource: 2}, Proxy{Mode: ProxyV2, Trusted: trustLoopback1})
	a := netip.MustParseAddrPort("192.0.2.7:40000")
	for range 2 {
		echoes(t, dialFrom(t, s, "127.0.0.1"), headerV2(a, proxyDst))
	}
	c := dialFrom(t, s, "127.0.0.1")
	_, _ = c.Write(append(headerV2(a, proxyDst), abcFrame...))
	refused(t, c)
	echoes(t, dialFrom(t, s, "127.0.0.1"), headerV2(netip.MustParseAddrPort("192.0.2.8:40000"), proxyDst))
	if st := s.Stats(); st.RefusedPerSource != 1 || st.Accepted != 3 {
		t.Fatalf("stats %+v, want 3 accepted and 1 refused per source", st)
	}
}

// TestProxyNeedsTrusted: a PROXY protocol mode without trusted proxies is
// refused.
func TestProxyNeedsTrusted(t *testing.T) {
	_, err := Listen(Options{
		Listeners: []Listener{{Addr: netip.MustParseAddrPort("127.0.0.1:0"),
			Sniffers: []Sniffer{claimFirst(3, stats.TransportTCP)}, Proxy: Proxy{Mode: ProxyV2}}},
		Handler: newRemoteRecorder(),
	})
	if err == nil || !errors.Is(err, ErrNoTrustedProxy) {
		t.Fatalf("Listen: %v, want ErrNoTrustedProxy", err)
	}
}
