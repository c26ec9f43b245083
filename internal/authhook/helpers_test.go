package authhook

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/pki"
)

// service is a test HTTPS service on loopback with its own CA: tls is
// what a client needs to trust it, and present a client certificate.
type service struct {
	*httptest.Server
	tls *tls.Config
}

// newService starts handler over TLS; with mtls, the server requires a
// client certificate of the CA, which tls carries.
func newService(t *testing.T, handler http.Handler, mtls bool) *service {
	t.Helper()
	now := time.Now()
	ca, err := pki.NewCA("authhook test CA", now.Add(-time.Hour), now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	srvCert, err := ca.Issue(pki.Request{Usage: pki.ServerAuth, Names: []string{"127.0.0.1"}, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	cliCert, err := ca.Issue(pki.Request{Usage: pki.ClientAuth, CommonName: "edge", NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(handler)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{srvCert.TLS()}}
	if mtls {
		pool := x509.NewCertPool()
		pool.AddCert(ca.Cert)
		s.TLS.ClientCAs = pool
		s.TLS.ClientAuth = tls.RequireAndVerifyClientCert
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return &service{Server: s, tls: &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{cliCert.TLS()}}}
}
