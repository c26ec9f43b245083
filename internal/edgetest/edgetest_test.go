package edgetest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/turntest"
)

// These tests take relay ports 34900-34995, the top of the range that
// e2e/webrtc owns, which leaves its lower ports to it: 6 blocks of 16
// ports, taken in turn (the tests run one after the other).
var edges = PortBlocks{Base: 34900, Size: 16, Count: 6}

// ioTimeout bounds the tests' dials and reads.
const ioTimeout = 5 * time.Second

// startTest starts an edge on the next relay port block.
func startTest(t *testing.T, deny bool) (*Edge, RelayRange) {
	t.Helper()
	return edges.Start(t, deny)
}

// TestCredentialsNameTheListeners: the credential names the three
// listeners, the TLS one by the certificate's name, and ICEServers keeps
// one transport's URI.
func TestCredentialsNameTheListeners(t *testing.T) {
	e, _ := startTest(t, false)
	c := e.Credentials(t, "alice")
	want := []string{
		"turn:" + e.UDP.String() + "?transport=udp",
		"turn:" + e.TCP.String() + "?transport=tcp",
		"turns:localhost:" + strconv.Itoa(int(e.TLS.Port())) + "?transport=tcp",
	}
	if strings.Join(c.URIs, " ") != strings.Join(want, " ") {
		t.Fatalf("URIs %q, want %q", c.URIs, want)
	}
	if c.Realm != "avedge.test" || e.Realm != c.Realm || !strings.HasSuffix(c.Username, ":alice") || c.Password == "" {
		t.Fatalf("credential %+v, edge realm %q", c, e.Realm)
	}
	if !strings.HasPrefix(e.ServiceURL, "https://127.0.0.1:") || e.RelayAddr() != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("service %q, relay address %v", e.ServiceURL, e.RelayAddr())
	}
	for i, transport := range []string{"udp", "tcp", "tls"} {
		s := e.ICEServers(t, "bob", transport)
		if len(s.URLs) != 1 || s.URLs[0] != want[i] || !strings.HasSuffix(s.Username, ":bob") || s.Credential == "" {
			t.Errorf("%s: %+v, want the URL %q", transport, s, want[i])
		}
	}
}

// TestCAFileVerifiesTheListeners: CAFile holds CAPEM, which verifies the
// TLS listener as "localhost" and the credential service as 127.0.0.1.
func TestCAFileVerifiesTheListeners(t *testing.T) {
	e, _ := startTest(t, false)
	pem, err := os.ReadFile(e.CAFile)
	if err != nil || !bytes.Equal(pem, e.CAPEM) {
		t.Fatalf("CA file: %v; equal to CAPEM: %v", err, bytes.Equal(pem, e.CAPEM))
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatal("CAPEM holds no certificate")
	}
	for _, tc := range []struct {
		addr, name string
	}{
		{e.TLS.String(), "localhost"},
		{e.TLS.String(), "127.0.0.1"},
		{strings.TrimPrefix(e.ServiceURL, "https://"), "127.0.0.1"},
	} {
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: ioTimeout}, Config: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, ServerName: tc.name}}
		c, err := d.Dial("tcp", tc.addr)
		if err != nil {
			t.Errorf("%s as %q: %v", tc.addr, tc.name, err)
			continue
		}
		c.Close()
	}
}

// TestRelayOverEachTransport: a TURN client allocates over UDP, TCP and TLS
// with the service's credential and relays one packet to a loopback peer,
// which the relay counts; with DenyLoopbackPeers the permission is refused
// with 403 and nothing is relayed.
func TestRelayOverEachTransport(t *testing.T) {
	for _, tc := range []struct {
		transport string
		deny      bool
	}{
		{"udp", false},
		{"tcp", false},
		{"tls", false},
		{"udp", true},
	} {
		name := tc.transport
		if tc.deny {
			name += "/deny-loopback"
		}
		t.Run(name, func(t *testing.T) {
			e, ports := startTest(t, tc.deny)
			c := e.dialTURN(t, tc.transport)
			ra, code := c.Allocate()
			if code != 0 {
				t.Fatalf("allocate: error code %d", code)
			}
			if ra.Addr() != e.RelayAddr() || !ports.Contains(int(ra.Port())) {
				t.Fatalf("relayed address %v", ra)
			}
			peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			pa := peer.LocalAddr().(*net.UDPAddr).AddrPort()
			code = c.CreatePermission(pa)
			if tc.deny {
				if code != stun.CodeForbidden {
					t.Fatalf("CreatePermission: error code %d, want 403", code)
				}
				if st := e.Stats(); st.ToPeerPackets != 0 || st.Allocations != 1 {
					t.Fatalf("stats %+v, want one allocation and nothing relayed", st)
				}
				return
			}
			if code != 0 {
				t.Fatalf("CreatePermission: error code %d", code)
			}
			c.Send(pa, []byte("hello"))
			buf := make([]byte, 64)
			_ = peer.SetReadDeadline(time.Now().Add(ioTimeout))
			n, from, err := peer.ReadFromUDPAddrPort(buf)
			if err != nil || string(buf[:n]) != "hello" || from != ra {
				t.Fatalf("peer got %q from %v (%v), want hello from %v", buf[:n], from, err, ra)
			}
			st := e.WaitStats(t, func(st stats.Stats) bool { return st.ToPeerPackets == 1 })
			if st.ToPeerBytes != 5 || st.Allocations != 1 {
				t.Fatalf("stats %+v, want 5 bytes to the peer and one allocation", st)
			}
		})
	}
}

// dialTURN connects to the edge's listener of transport ("udp", "tcp" or
// "tls", the latter by the name the credential's URI gives, verified with
// CAPEM) with a fresh credential from the service; the connection is closed
// when the test ends.
func (e *Edge) dialTURN(t *testing.T, transport string) *turntest.Client {
	t.Helper()
	s := e.ICEServers(t, "alice", transport)
	var (
		conn net.Conn
		err  error
	)
	switch transport {
	case "udp":
		conn, err = net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(e.UDP))
	case "tcp":
		conn, err = net.DialTimeout("tcp", e.TCP.String(), ioTimeout)
	case "tls":
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(e.CAPEM)
		// The URI names the listener by the certificate's name.
		hostPort := strings.TrimPrefix(strings.TrimSuffix(s.URLs[0], "?transport=tcp"), "turns:")
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: ioTimeout}, Config: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, ServerName: "localhost"}}
		conn, err = d.Dial("tcp", hostPort)
	}
	if err != nil {
		t.Fatal(err)
	}
	return turntest.New(t, conn, s.Username, s.Credential)
}
