package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
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

// ALPN protocol IDs a TLS listener negotiates.
const (
	// ALPNTURN is TURN over TLS (RFC 7443 §6).
	ALPNTURN = "stun.turn"
	// ALPNNATDiscovery is STUN NAT discovery over TLS (RFC 7443 §6),
	// which a TURN listener answers as well: Binding requests.
	ALPNNATDiscovery = "stun.nat-discovery"
	// ALPNACME is the TLS-ALPN-01 challenge (RFC 8737), negotiated only
	// with TLSPolicy.ACMEChallenge.
	ALPNACME = "acme-tls/1"
)

// TLSPolicy is how a TLS listener negotiates, besides its certificate.
type TLSPolicy struct {
	// MinVersion is the oldest TLS version accepted, tls.VersionTLS12 or
	// tls.VersionTLS13; 0 is TLS 1.2.
	MinVersion uint16
	// ACMEChallenge, if set, answers the ClientHellos that offer ALPN
	// "acme-tls/1" (an ACME CA validating TLS-ALPN-01) with the challenge
	// certificate it returns, instead of the CertStore's.
	ACMEChallenge func(*tls.ClientHelloInfo) (*tls.Certificate, error)
}

// tlsConfig is the server TLS configuration of a listener: TLS 1.2 or
// later (or as pol says), with the certificate of certs.
//
// ALPN (RFC 7443): a client that offers "stun.turn" or
// "stun.nat-discovery" gets it; one that offers none is served without
// ALPN, and so is one that offers only other protocols (say "http/1.1"
// from a generic TLS stack, or through a proxy), where Go's server would
// otherwise end the handshake with no_application_protocol: what follows
// is TURN whatever was offered, coturn serves such clients too, and RFC
// 7443 asks no refusal. Only a client offering "acme-tls/1" is held
// apart: it gets the ACME challenge certificate, or a failed handshake
// when pol has no ACMEChallenge or none is pending.
//
// Session resumption is Go's default: session tickets (TLS 1.2) and PSK
// tickets (TLS 1.3) sealed with keys that crypto/tls makes at random and
// rotates every day (a ticket is accepted for a week at most); the
// tickets of one listener are not accepted by another node, nor after a
// restart, where a client makes a full handshake.
func tlsConfig(certs *CertStore, pol TLSPolicy) *tls.Config {
	minVersion := pol.MinVersion
	if minVersion == 0 {
		minVersion = tls.VersionTLS12
	}
	withoutALPN := &tls.Config{MinVersion: minVersion, GetCertificate: certs.GetCertificate}
	cfg := withoutALPN.Clone()
	cfg.NextProtos = []string{ALPNTURN, ALPNNATDiscovery}
	var challenge *tls.Config
	if pol.ACMEChallenge != nil {
		challenge = &tls.Config{MinVersion: minVersion, NextProtos: []string{ALPNACME}, GetCertificate: pol.ACMEChallenge}
	}
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		offered := hello.SupportedProtos
		switch {
		case slices.Contains(offered, ALPNACME):
			if challenge == nil {
				return nil, errNoACME
			}
			return challenge, nil
		case len(offered) == 0 || slices.ContainsFunc(offered, func(p string) bool { return slices.Contains(cfg.NextProtos, p) }):
			return nil, nil
		default:
			return withoutALPN, nil
		}
	}
	return cfg
}

// errNoACME ends the handshake of an ACME validation on a listener without
// ACME.
var errNoACME = errors.New("server: acme-tls/1 offered to a listener without ACME")
