package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/avedge/avedge/internal/pki"
)

// ErrNoCertificate is returned to a TLS handshake when a CertStore holds no
// certificate.
var ErrNoCertificate = errors.New("server: no TLS certificate")

// CertStore holds the certificate of a TLS listener. Set and Load replace
// it while the listener serves: new handshakes get the new certificate,
// established connections keep theirs.
type CertStore struct {
	cur atomic.Pointer[tls.Certificate]
}

// LoadCertStore returns a CertStore holding the certificate chain and key
// of the PEM files certFile and keyFile.
func LoadCertStore(certFile, keyFile string) (*CertStore, error) {
	s := new(CertStore)
	if err := s.Load(certFile, keyFile); err != nil {
		return nil, err
	}
	return s, nil
}

// Load replaces the certificate with the one in certFile and keyFile; on
// error the current one stays.
func (s *CertStore) Load(certFile, keyFile string) error {
	c, err := pki.LoadKeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("server: TLS certificate: %w", err)
	}
	s.Set(c)
	return nil
}

// Set replaces the certificate.
func (s *CertStore) Set(c tls.Certificate) { s.cur.Store(&c) }

// GetCertificate returns the current certificate; it is the
// tls.Config.GetCertificate of the listener.
func (s *CertStore) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c := s.cur.Load(); c != nil {
		return c, nil
	}
	return nil, ErrNoCertificate
}

// tlsConfig is the server TLS configuration of a listener: TLS 1.2 or
// later, with the certificate of certs.
func tlsConfig(certs *CertStore) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.GetCertificate}
}
