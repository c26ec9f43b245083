package pion

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"

	"github.com/pion/logging"
	"github.com/pion/turn/v4"

	"github.com/avedge/avedge/internal/edgetest"
)

// newClient returns pion's TURN client of the edge's listener of transport
// ("udp", "tcp" or "tls") over conn, listening, with a fresh credential of
// the edge's credential service; it is closed when the test ends.
func newClient(t *testing.T, e *edgetest.Edge, transport string, conn net.PacketConn) *turn.Client {
	t.Helper()
	return newClientAs(t, e, transport, conn, e.ICEServers(t, "alice", transport))
}

// newClientAs is newClient with the credential of s.
func newClientAs(t *testing.T, e *edgetest.Edge, transport string, conn net.PacketConn, s edgetest.ICEServer) *turn.Client {
	t.Helper()
	server := map[string]string{"udp": e.UDP.String(), "tcp": e.TCP.String(), "tls": e.TLS.String()}[transport]
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server, TURNServerAddr: server, Conn: conn,
		Username: s.Username, Password: s.Credential, Realm: e.Realm, LoggerFactory: lf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	return c
}

// dialStream connects to the edge's plain TCP listener, or to its TLS
// listener as "localhost" verified with the edge's CA when useTLS; the
// connection is tapped above TLS and closed when the test ends.
func dialStream(t *testing.T, e *edgetest.Edge, useTLS bool) *streamTap {
	t.Helper()
	var (
		c   net.Conn
		err error
	)
	if useTLS {
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(e.CAPEM) {
			t.Fatal("the edge's CA PEM holds no certificate")
		}
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: ioTimeout}, Config: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, ServerName: "localhost"}}
		c, err = d.Dial("tcp", e.TLS.String())
	} else {
		c, err = net.DialTimeout("tcp", e.TCP.String(), ioTimeout)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &streamTap{Conn: c}
}

// listenUDP returns a tapped UDP socket on 127.0.0.1, closed when the test
// ends.
func listenUDP(t *testing.T) *udpTap {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &udpTap{PacketConn: c}
}
