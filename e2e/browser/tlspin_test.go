package browser

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/edgetest"
)

// tlsServerName is the name of the TLS listener's certificate, the host of
// the turns: URI.
const tlsServerName = "localhost"

// trustEdgeTLS returns the Chromium switch that makes it accept the
// certificate of e's TLS listener.
//
// Chromium verifies the certificate of a turns: relay with its ordinary
// certificate verifier: a certificate from a CA it does not trust fails
// the handshake (the edge counts HandshakeFailed) and no relay candidate
// is gathered. --ignore-certificate-errors would turn verification off for
// everything; --ignore-certificate-errors-spki-list (effective with a
// --user-data-dir) accepts chains holding one of the listed public keys.
// The listener presents its leaf certificate without the CA, so the pin
// must be the leaf's key: the test fetches the leaf, verifies it here
// against the edge's CA for tlsServerName, and pins that key only.
func trustEdgeTLS(t *testing.T, e *edgetest.Edge) string {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(e.CAPEM) {
		t.Fatal("edge CA: no certificate in CAPEM")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, ServerName: tlsServerName}}
	c, err := d.DialContext(ctx, "tcp", e.TLS.String())
	if err != nil {
		t.Fatalf("edge TLS listener: %v", err)
	}
	leaf := c.(*tls.Conn).ConnectionState().PeerCertificates[0]
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	return "--ignore-certificate-errors-spki-list=" + base64.StdEncoding.EncodeToString(sum[:])
}
