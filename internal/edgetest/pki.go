package edgetest

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/pki"
)

// clientName is the DNS name of the trusted client certificate, the one
// caller the credential service answers.
const clientName = "edgetest-app"

// serverNames are the names of the TLS listener's and the service's
// certificate.
var serverNames = []string{"localhost", "127.0.0.1"}

// testPKI is the edge's CA.
type testPKI struct {
	ca *pki.CA
}

// newTestPKI returns a new CA valid for a day.
func newTestPKI(tb testing.TB) *testPKI {
	tb.Helper()
	now := time.Now()
	ca, err := pki.NewCA("edgetest CA", now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		tb.Fatal(err)
	}
	return &testPKI{ca: ca}
}

// issue returns a certificate of usage for names, valid for the CA's life.
func (p *testPKI) issue(tb testing.TB, usage pki.Usage, names []string) tls.Certificate {
	tb.Helper()
	kp, err := p.ca.Issue(pki.Request{Usage: usage, Names: names, NotBefore: p.ca.Cert.NotBefore, NotAfter: p.ca.Cert.NotAfter})
	if err != nil {
		tb.Fatal(err)
	}
	return kp.TLS()
}

// serverCert returns a server certificate for serverNames.
func (p *testPKI) serverCert(tb testing.TB) tls.Certificate {
	return p.issue(tb, pki.ServerAuth, serverNames)
}

// clientCert returns the trusted client certificate.
func (p *testPKI) clientCert(tb testing.TB) tls.Certificate {
	return p.issue(tb, pki.ClientAuth, []string{clientName})
}

// writeCA writes the CA certificate to a file in the test's temporary
// directory and returns its PEM and path.
func (p *testPKI) writeCA(tb testing.TB) ([]byte, string) {
	tb.Helper()
	pem := pki.EncodeCertificate(p.ca.Cert)
	path := filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem, 0o600); err != nil {
		tb.Fatal(err)
	}
	return pem, path
}
