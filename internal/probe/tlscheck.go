package probe

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// certWarnBefore is how long before its expiry a certificate draws a
// warning.
const certWarnBefore = 30 * 24 * time.Hour

// tlsCheck makes a TLS handshake (1.2 or later) with a TLS client port and
// checks the certificate the edge presents against host, the roots and
// the clock. It reports whether a client would trust the edge.
func (p *prober) tlsCheck(ep Endpoint, server netip.AddrPort) (Result, bool) {
	r := Result{Name: fmt.Sprintf("tls %s", ep.Addr())}
	c, err := p.dialTCP(server)
	if err != nil {
		r.Status, r.Detail = Fail, fmt.Sprintf("connect: %v", err)
		return r, false
	}
	defer c.Close()
	// The chain is checked below, by certResult, to say precisely what is
	// wrong with it; a handshake that verified would only say that
	// something is.
	tc, err := p.handshake(c, &tls.Config{ServerName: ep.Host, MinVersion: tls.VersionTLS12,
		InsecureSkipVerify: true, Time: p.opts.Clock.Now})
	if err != nil {
		r.Status, r.Detail = Fail, fmt.Sprintf("TLS handshake failed: %v", err)
		r.Remedy = fmt.Sprintf("the edge must speak TLS 1.2 or later on port %d: give the tcp listener a tls certificate "+
			"(tls.cert_file, tls.key_file), or use turn:…?transport=tcp for plain TURN", server.Port())
		return r, false
	}
	state := tc.ConnectionState()
	r = certResult(r.Name, state.PeerCertificates, ep.Host, p.opts.RootCAs, p.opts.Clock.Now())
	r.Detail = tls.VersionName(state.Version) + ", " + r.Detail
	return r, r.Status != Fail
}

// certResult checks a presented chain (leaf first) for host as a client
// would: names, validity period and a chain to roots (nil: the system's).
func certResult(name string, certs []*x509.Certificate, host string, roots *x509.CertPool, now time.Time) Result {
	r := Result{Name: name}
	if len(certs) == 0 {
		r.Status, r.Detail = Fail, "no certificate presented"
		r.Remedy = "configure tls.cert_file and tls.key_file on the edge's listener"
		return r
	}
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, verr := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	chain := certs
	if verr == nil {
		chain = chains[0]
	}
	r.Detail = fmt.Sprintf("names %s; chain %s; valid %s to %s", certNames(leaf), chainNames(chain, verr == nil),
		leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	renew := "renew the certificate (with your CA or ACME client), install it as the listener's tls.cert_file " +
		"and reload the edge (SIGHUP): new handshakes get it at once"
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	switch {
	case now.After(leaf.NotAfter):
		r.Status, r.Remedy = Fail, renew
		r.Detail = fmt.Sprintf("certificate expired at %s; %s", leaf.NotAfter.UTC().Format(time.RFC3339), r.Detail)
	case now.Before(leaf.NotBefore):
		r.Status = Fail
		r.Detail = fmt.Sprintf("certificate not valid before %s; %s", leaf.NotBefore.UTC().Format(time.RFC3339), r.Detail)
		r.Remedy = "this machine's clock (or the issuer's) is wrong, or the certificate was installed too early: check NTP on both"
	case errors.As(verr, &hostErr):
		r.Status = Fail
		r.Detail = fmt.Sprintf("certificate is not valid for %s; %s", host, r.Detail)
		r.Remedy = fmt.Sprintf("issue a certificate whose subjectAltName includes %s (clients check the name in the turns: URI), "+
			"or put a name the certificate holds in the URI", host)
	case errors.As(verr, &authErr):
		r.Status = Fail
		r.Detail = fmt.Sprintf("certificate signed by an unknown authority; %s", r.Detail)
		r.Remedy = "serve the whole chain (leaf, then intermediates) in tls.cert_file, and use a certificate from a CA that " +
			"clients trust; for a private CA, give it to this probe with --ca (browsers need it installed too)"
	case verr != nil:
		r.Status = Fail
		r.Detail = fmt.Sprintf("certificate does not verify: %v; %s", verr, r.Detail)
		r.Remedy = "use a TLS server certificate (extended key usage serverAuth) for the edge's name from a CA clients trust"
	case leaf.NotAfter.Sub(now) < certWarnBefore:
		r.Status, r.Remedy = Warn, renew
		r.Detail = fmt.Sprintf("certificate expires in %d days; %s", int(leaf.NotAfter.Sub(now)/(24*time.Hour)), r.Detail)
	default:
		r.Status = Pass
	}
	return r
}

// certNames lists the DNS and IP names of a certificate.
func certNames(c *x509.Certificate) string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, " ")
}

// chainNames lists the subjects of a chain, leaf first; an unverified
// chain ends with the issuer its last certificate names.
func chainNames(chain []*x509.Certificate, verified bool) string {
	var s []string
	for _, c := range chain {
		s = append(s, subject(c.Subject.CommonName, c.Subject.String()))
	}
	if !verified {
		last := chain[len(chain)-1]
		s = append(s, "(issued by "+subject(last.Issuer.CommonName, last.Issuer.String())+")")
	}
	return strings.Join(s, " ← ")
}

// subject is a certificate name's CommonName, else its whole form.
func subject(cn, full string) string {
	if cn != "" {
		return cn
	}
	return full
}
