package acme

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/acme"
)

// orderTimeout bounds one attempt at obtaining a certificate.
const orderTimeout = 5 * time.Minute

// obtain registers the account if need be, orders a certificate for the
// domains, answers their challenges and returns the certificate with a
// new key.
func (m *Manager) obtain(ctx context.Context) (tls.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, orderTimeout)
	defer cancel()
	if err := m.register(ctx); err != nil {
		return tls.Certificate{}, err
	}
	order, err := m.client.AuthorizeOrder(ctx, acme.DomainIDs(m.opts.Domains...))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("acme: new order: %w", err)
	}
	for _, u := range order.AuthzURLs {
		if err := m.authorize(ctx, u); err != nil {
			return tls.Certificate{}, err
		}
	}
	ready, err := m.client.WaitOrder(ctx, order.URI)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("acme: order: %w", err)
	}
	if ready.URI == "" { // only the creation's answer has a Location
		ready.URI = order.URI
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("acme: certificate key: %w", err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: m.opts.Domains[0]}, DNSNames: m.opts.Domains}, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("acme: CSR: %w", err)
	}
	der, _, err := m.client.CreateCertFromOrder(ctx, ready, csr, true)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("acme: finalize: %w", err)
	}
	leaf, err := x509.ParseCertificate(der[0])
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: %w", ErrBadCertificate, err)
	}
	if err := usable(leaf, m.opts.Domains, time.Now()); err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: der, PrivateKey: key, Leaf: leaf}, nil
}

// register creates the account at the CA, or finds it, once.
func (m *Manager) register(ctx context.Context) error {
	if m.registered {
		return nil
	}
	acct := &acme.Account{}
	if m.opts.Email != "" {
		acct.Contact = []string{"mailto:" + m.opts.Email}
	}
	if _, err := m.client.Register(ctx, acct, acme.AcceptTOS); err != nil && !errors.Is(err, acme.ErrAccountAlreadyExists) {
		return fmt.Errorf("acme: account: %w", err)
	}
	m.registered = true
	return nil
}

// authorize answers the challenge of the authorization at url, unless it
// is valid already, and waits for the CA's verdict.
func (m *Manager) authorize(ctx context.Context, url string) error {
	z, err := m.client.GetAuthorization(ctx, url)
	if err != nil {
		return fmt.Errorf("acme: authorization: %w", err)
	}
	if z.Status == acme.StatusValid {
		return nil
	}
	name := z.Identifier.Value
	chal := m.pick(z.Challenges)
	if chal == nil {
		return fmt.Errorf("%w for %s", ErrNoUsableChallenge, name)
	}
	undo, err := m.prepare(chal, name)
	if err != nil {
		return err
	}
	defer undo()
	if _, err := m.client.Accept(ctx, chal); err != nil {
		return fmt.Errorf("acme: %s challenge for %s: %w", chal.Type, name, err)
	}
	if _, err := m.client.WaitAuthorization(ctx, z.URI); err != nil {
		return fmt.Errorf("acme: %s challenge for %s: %w", chal.Type, name, err)
	}
	m.log.Info("ACME challenge passed", "type", chal.Type, "domain", name)
	return nil
}

// pick chooses the challenge to answer: HTTP-01 when an HTTP server runs
// (it passes proxies in front of the TLS port that do not forward
// acme-tls/1), else TLS-ALPN-01.
func (m *Manager) pick(chals []*acme.Challenge) *acme.Challenge {
	prefer := []string{"tls-alpn-01"}
	if m.httpSrv != nil {
		prefer = []string{"http-01", "tls-alpn-01"}
	}
	for _, typ := range prefer {
		for _, c := range chals {
			if c.Type == typ {
				return c
			}
		}
	}
	return nil
}

// prepare makes the response to chal for name available, returning how
// to withdraw it.
func (m *Manager) prepare(chal *acme.Challenge, name string) (func(), error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch chal.Type {
	case "tls-alpn-01":
		cert, err := m.client.TLSALPN01ChallengeCert(chal.Token, name)
		if err != nil {
			return nil, fmt.Errorf("acme: TLS-ALPN-01 certificate: %w", err)
		}
		m.alpn[name] = &cert
		return func() { m.mu.Lock(); delete(m.alpn, name); m.mu.Unlock() }, nil
	default: // http-01, as pick chose
		resp, err := m.client.HTTP01ChallengeResponse(chal.Token)
		if err != nil {
			return nil, fmt.Errorf("acme: HTTP-01 response: %w", err)
		}
		path := m.client.HTTP01ChallengePath(chal.Token)
		m.http[path] = resp
		return func() { m.mu.Lock(); delete(m.http, path); m.mu.Unlock() }, nil
	}
}

// ChallengeCertificate returns the TLS-ALPN-01 certificate pending for the
// ClientHello's server name; it is the listener's
// server.TLSPolicy.ACMEChallenge.
func (m *Manager) ChallengeCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.alpn[hello.ServerName]; c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("%w for %q", ErrNoChallenge, hello.ServerName)
}
