package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"testing"
	"time"
)

// dialTimeout bounds a TCP connection and TLS handshake to the edge.
const dialTimeout = 5 * time.Second

// tlsDialer opens TURN-over-TLS connections that verify the edge's
// certificate against the edge's CA.
//
// pion/ice dials a turns: URI itself with tls.Config{ServerName: host} and
// no way to set RootCAs, so it trusts only the system's roots (or, with
// InsecureSkipVerify, nothing is verified). What it does offer is a proxy
// dialer (SettingEngine.SetICEProxyDialer): for a turns: or turn: URI over
// TCP it asks the dialer for the connection to the TURN server and speaks
// STUN over whatever comes back, reporting the relay protocol as "tls" for
// turns:. This dialer returns a TLS connection whose handshake verified the
// certificate for the URI's host name against the CA.
type tlsDialer struct {
	roots *x509.CertPool
}

func newTLSDialer(t *testing.T, caPEM []byte) *tlsDialer {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("the edge's CA PEM holds no certificate")
	}
	return &tlsDialer{roots: roots}
}

// Dial implements golang.org/x/net/proxy.Dialer: it connects to addr (the
// URI's host and port) and completes a TLS handshake verifying the host.
func (d *tlsDialer) Dial(network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("e2e: TURN server address %q: %w", addr, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	td := &tls.Dialer{Config: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: d.roots, ServerName: host}}
	c, err := td.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("e2e: TURN over TLS to %s: %w", addr, err)
	}
	return c, nil
}
