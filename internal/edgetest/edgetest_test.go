package edgetest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

// These tests take relay ports 34900-34995, the top of the range that
// e2e/webrtc owns, which leaves its lower ports to it: blocks of
// testPorts, taken in turn (the tests run one after the other).
const (
	testPortBase = 34900
	testPorts    = 16
	testBlocks   = 6
	ioTimeout    = 5 * time.Second
)

var edges atomic.Int32

// startTest starts an edge on the next relay port block and returns it
// with its first relay port.
func startTest(t *testing.T, deny bool) (*Edge, int) {
	t.Helper()
	base := testPortBase + int(edges.Add(1)-1)%testBlocks*testPorts
	return Start(t, Options{RelayPortMin: base, RelayPorts: testPorts, DenyLoopbackPeers: deny}), base
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
			e, base := startTest(t, tc.deny)
			c := e.dialTURN(t, tc.transport)
			r := c.request(stun.MethodAllocate, stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP})
			wantCode(t, r, 0)
			var xr stunproto.XORRelayedAddress
			if err := xr.GetFrom(r); err != nil {
				t.Fatal(err)
			}
			ra := xr.Addr
			if ra.Addr() != e.RelayAddr() || int(ra.Port()) < base || int(ra.Port()) >= base+testPorts {
				t.Fatalf("relayed address %v", ra)
			}
			peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			pa := &stunproto.XORPeerAddress{Addr: peer.LocalAddr().(*net.UDPAddr).AddrPort()}
			r = c.request(stun.MethodCreatePermission, pa)
			if tc.deny {
				wantCode(t, r, stun.CodeForbidden)
				if st := e.Stats(); st.ToPeerPackets != 0 || st.Allocations != 1 {
					t.Fatalf("stats %+v, want one allocation and nothing relayed", st)
				}
				return
			}
			wantCode(t, r, 0)
			c.write(stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
				pa, stunproto.Data("hello"), stun.Fingerprint))
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

// turnClient is a TURN client over one connection to a listener of the
// edge, built from pion/stun messages.
type turnClient struct {
	t                        *testing.T
	conn                     net.Conn
	stream                   bool // TCP or TLS: messages are read by their length
	user, pass, realm, nonce string
}

// dialTURN connects to the edge's listener of transport ("udp", "tcp" or
// "tls", the latter by the name the credential's URI gives, verified with
// CAPEM) with a fresh credential from the service; the connection is closed
// when the test ends.
func (e *Edge) dialTURN(t *testing.T, transport string) *turnClient {
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
	t.Cleanup(func() { conn.Close() })
	return &turnClient{t: t, conn: conn, stream: transport != "udp", user: s.Username, pass: s.Credential}
}

// write sends m.
func (c *turnClient) write(m *stun.Message) {
	c.t.Helper()
	if _, err := c.conn.Write(m.Raw); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next STUN message.
func (c *turnClient) read() *stun.Message {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	var b []byte
	if c.stream {
		b = make([]byte, stunHeaderSize)
		if _, err := io.ReadFull(c.conn, b); err != nil {
			c.t.Fatalf("read: %v", err)
		}
		b = append(b, make([]byte, binary.BigEndian.Uint16(b[2:4]))...)
		if _, err := io.ReadFull(c.conn, b[stunHeaderSize:]); err != nil {
			c.t.Fatalf("read: %v", err)
		}
	} else {
		b = make([]byte, 1500)
		n, err := c.conn.Read(b)
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		b = b[:n]
	}
	m := new(stun.Message)
	if err := stun.Decode(b, m); err != nil {
		c.t.Fatalf("decode: %v", err)
	}
	return m
}

// stunHeaderSize is the size of a STUN message header (RFC 8489 §5).
const stunHeaderSize = 20

// request sends an authenticated request, answering a 401 or 438 challenge
// with the realm and nonce it carries, and returns the final answer.
func (c *turnClient) request(method stun.Method, attrs ...stun.Setter) *stun.Message {
	c.t.Helper()
	for range 3 {
		setters := append([]stun.Setter{stun.TransactionID, stun.NewType(method, stun.ClassRequest)}, attrs...)
		if c.nonce != "" {
			setters = append(setters, stun.NewUsername(c.user), stun.NewRealm(c.realm), stun.NewNonce(c.nonce),
				stun.NewLongTermIntegrity(c.user, c.realm, c.pass))
		}
		m := stun.MustBuild(append(setters, stun.Fingerprint)...)
		c.write(m)
		r := c.read()
		for r.TransactionID != m.TransactionID {
			r = c.read()
		}
		code := errorCode(r)
		if code != stun.CodeStaleNonce && (code != stun.CodeUnauthorized || c.nonce != "") {
			return r
		}
		var realm stun.Realm
		var nonce stun.Nonce
		if realm.GetFrom(r) != nil || nonce.GetFrom(r) != nil {
			c.t.Fatalf("%v without REALM and NONCE", code)
		}
		c.realm, c.nonce = realm.String(), nonce.String()
	}
	c.t.Fatal("no answer after three challenges")
	return nil
}

// errorCode returns the ERROR-CODE of m, or 0 for a success response.
func errorCode(m *stun.Message) stun.ErrorCode {
	var ec stun.ErrorCodeAttribute
	if ec.GetFrom(m) != nil {
		return 0
	}
	return ec.Code
}

// wantCode fails the test unless m answers with code want (0: success).
func wantCode(t *testing.T, m *stun.Message, want stun.ErrorCode) {
	t.Helper()
	if got := errorCode(m); got != want || (want == 0 && m.Type.Class != stun.ClassSuccessResponse) {
		t.Fatalf("%v: error code %d, want %d", m.Type, got, want)
	}
}
