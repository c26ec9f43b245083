package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/avedge/avedge/internal/pki"
)

// DefaultACMEDirectory is the directory URL of an ACME certificate
// authority when tls.acme.directory is not set: Let's Encrypt's
// production directory.
const DefaultACMEDirectory = "https://acme-v02.api.letsencrypt.org/directory"

// ACME obtains and renews a TLS listener's certificate from an ACME
// certificate authority (RFC 8555), answering the TLS-ALPN-01 challenge
// (RFC 8737) on the listener itself and, with HTTPListen, HTTP-01 too.
type ACME struct {
	// Domains are the DNS names (lower case) of the certificate, the
	// first one its subject; one certificate names them all.
	Domains []string `json:"domains"`
	// Email is the contact address of the ACME account; empty for none.
	Email string `json:"email"`
	// Directory is the https URL of the CA's ACME directory.
	Directory string `json:"directory"`
	// HTTPListen, if valid, is the TCP address of a small HTTP server
	// that answers HTTP-01 challenges (the CA connects to port 80 of
	// each domain); invalid: TLS-ALPN-01 only.
	HTTPListen netip.AddrPort `json:"http_listen,omitzero"`
	// CARoots, if set, is a PEM file of the certificates to trust for the
	// directory's HTTPS instead of the system's (a private CA, or a test
	// CA such as Pebble).
	CARoots string `json:"ca_roots,omitempty"`
}

// acme decodes a listener's tls.acme section.
func (p *parser) acme(e entry) (*ACME, error) {
	a := &ACME{Directory: DefaultACMEDirectory}
	seen, err := p.mapping(e, []field{
		{"domains", func(e entry) error { return p.acmeDomains(e, &a.Domains) }},
		{"email", func(e entry) error {
			s, err := p.str(e)
			if err != nil {
				return err
			}
			if at := strings.IndexByte(s, '@'); at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " \t<>") {
				return p.fail(e, "%q: not an email address", s)
			}
			a.Email = s
			return nil
		}},
		{"directory", func(e entry) error {
			s, err := p.str(e)
			if err != nil {
				return err
			}
			u, err := url.Parse(s)
			if err != nil || u.Scheme != "https" || u.Host == "" {
				return p.fail(e, "%q: not an https URL (the CA's ACME directory, such as %s)", s, DefaultACMEDirectory)
			}
			a.Directory = s
			return nil
		}},
		{"http_listen", func(e entry) error {
			s, err := p.str(e)
			if err != nil {
				return err
			}
			ap, err := netip.ParseAddrPort(s)
			if err != nil || ap.Port() == 0 {
				return p.fail(e, "%q: not an IP:port address (such as \"0.0.0.0:80\"; CAs connect to port 80)", s)
			}
			a.HTTPListen = ap
			return nil
		}},
		{"ca_roots", func(e entry) error {
			if err := p.pemFile(e, &a.CARoots); err != nil {
				return err
			}
			if _, err := pki.LoadCertificates(a.CARoots); err != nil {
				return p.fail(e, "%s", pkiReason(err))
			}
			return nil
		}},
	})
	if err != nil {
		return nil, err
	}
	if err := p.require(e, seen, "domains"); err != nil {
		return nil, err
	}
	return a, nil
}

// acmeDomains decodes tls.acme.domains: DNS names, no wildcards (they need
// DNS-01, which avedge does not answer), no duplicates, at least one.
func (p *parser) acmeDomains(e entry, dst *[]string) error {
	return p.dnsNames(e, dst, "at least one domain is required", func(item entry, s, name string) error {
		switch {
		case strings.Contains(s, "*"):
			return p.fail(item, "%q: wildcard names need the DNS-01 challenge, which avedge does not answer; list each name", s)
		case !isHostName(name) || !strings.Contains(name, "."):
			return p.fail(item, "%q: not a fully qualified DNS name", s)
		}
		if _, err := netip.ParseAddr(name); err == nil {
			return p.fail(item, "%q: an IP address, not a DNS name", s)
		}
		return nil
	})
}

// finishACMEListeners refuses two listeners whose tls.acme.http_listen
// is the same address, or is the address of a TCP listener.
func (p *parser) finishACMEListeners() error {
	ls := p.cfg.Listeners
	for i, l := range ls {
		if l.TLS == nil || l.TLS.ACME == nil || !l.TLS.ACME.HTTPListen.IsValid() {
			continue
		}
		at := l.TLS.ACME.HTTPListen
		key := fmt.Sprintf("listeners[%d].tls.acme.http_listen", i)
		for j, o := range ls {
			switch {
			case o.Stream() && o.Address == at:
				return p.failAt(p.where(key), key, "%s: the address of listeners[%d]", at, j)
			case j < i && o.TLS != nil && o.TLS.ACME != nil && o.TLS.ACME.HTTPListen == at:
				return p.failAt(p.where(key), key, "%s: already listeners[%d].tls.acme.http_listen", at, j)
			}
		}
	}
	return nil
}
