package config

import (
	"crypto/x509"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/avedge/avedge/internal/pki"
)

// CredentialService configures the credential service: trusted servers ask
// it for relay credentials over mutually authenticated TLS.
type CredentialService struct {
	// Listen is the TCP address of the HTTPS listener; in production, an
	// address of the internal interface.
	Listen netip.AddrPort
	// CertFile and KeyFile hold the service's certificate (chain) and
	// private key, PEM. Relative paths are resolved against the
	// configuration file's directory.
	CertFile, KeyFile string
	// ClientCAFile holds the PEM certificates that client certificates must
	// chain to.
	ClientCAFile string
	// TrustedClients are the DNS names (lower case) of the clients allowed
	// to ask for credentials: a client certificate's DNS SAN, or its common
	// name when it has no SAN, must equal one of them.
	TrustedClients []string
	// MaxTTL is the lifetime of a credential when the caller asks for none,
	// and the most it may ask for.
	MaxTTL time.Duration
	// Rate limits the requests of each client name.
	Rate Rate
	// Relays are the relay addresses handed out, by caller location.
	Relays ServiceRelays
}

// Rate is a token bucket: PerSecond tokens are added every second, up to
// Burst; a request takes one.
type Rate struct {
	PerSecond float64 `json:"per_second"`
	Burst     int     `json:"burst"`
}

const (
	// DefaultServicePort is the credential service's port.
	DefaultServicePort = 5062
	// defaultMaxTTL is the default and greatest credential_service.max_ttl.
	defaultMaxTTL = 8 * time.Hour
	minMaxTTL     = time.Minute
	// defaultRatePerSecond and defaultRateBurst are the default rate.
	defaultRatePerSecond = 5
	defaultRateBurst     = 20
	maxRatePerSecond     = 10000
	maxRateBurst         = 10000
)

// defaultCredentialService returns the defaults of an enabled service.
func defaultCredentialService() *CredentialService {
	return &CredentialService{
		Listen: netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), DefaultServicePort),
		Rate:   Rate{PerSecond: defaultRatePerSecond, Burst: defaultRateBurst},
	}
}

// MarshalJSON writes s with max_ttl as a duration string.
func (s CredentialService) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Listen         netip.AddrPort `json:"listen"`
		CertFile       string         `json:"cert_file"`
		KeyFile        string         `json:"key_file"`
		ClientCAFile   string         `json:"client_ca_file"`
		TrustedClients []string       `json:"trusted_clients"`
		MaxTTL         string         `json:"max_ttl"`
		Rate           Rate           `json:"rate"`
		Relays         ServiceRelays  `json:"relays"`
	}{s.Listen, s.CertFile, s.KeyFile, s.ClientCAFile, s.TrustedClients, formatDuration(s.MaxTTL), s.Rate, s.Relays})
}

// credentialService decodes the credential_service section; its presence
// enables the service.
func (p *parser) credentialService(e entry, dst **CredentialService) error {
	cs := defaultCredentialService()
	seen, err := p.mapping(e, []field{
		{"listen", func(e entry) error { return p.serviceListen(e, &cs.Listen) }},
		{"cert_file", func(e entry) error {
			if err := p.pemFile(e, &cs.CertFile); err != nil {
				return err
			}
			if _, err := pki.LoadCertificates(cs.CertFile); err != nil {
				return p.fail(e, "%s", pkiReason(err))
			}
			return nil
		}},
		{"key_file", func(e entry) error { return p.keyFile(e, &cs.KeyFile) }},
		{"client_ca_file", func(e entry) error {
			if err := p.pemFile(e, &cs.ClientCAFile); err != nil {
				return err
			}
			return p.clientCAs(e, cs.ClientCAFile)
		}},
		{"trusted_clients", func(e entry) error { return p.trustedClients(e, &cs.TrustedClients) }},
		{"max_ttl", func(e entry) error {
			d, err := p.duration(e, minMaxTTL, defaultMaxTTL)
			cs.MaxTTL = d
			return err
		}},
		{"rate", func(e entry) error { return p.rate(e, &cs.Rate) }},
		{"relays", func(e entry) error { return p.serviceRelays(e, &cs.Relays) }},
	})
	if err != nil {
		return err
	}
	if err := p.require(e, seen, "cert_file", "key_file", "client_ca_file", "trusted_clients"); err != nil {
		return err
	}
	if err := p.serverKeyPair(seen["cert_file"], seen["key_file"], cs.CertFile, cs.KeyFile); err != nil {
		return err
	}
	*dst = cs
	return nil
}

// serviceListen decodes "IP:port", or a bare IP address meaning port 5062.
func (p *parser) serviceListen(e entry, dst *netip.AddrPort) error {
	s, err := p.str(e)
	if err != nil {
		return err
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return p.fail(e, "%q: not an IP address or IP:port (write IPv6 as \"[::1]:5062\")", s)
		}
		ap = netip.AddrPortFrom(a, DefaultServicePort)
	}
	if ap.Port() == 0 {
		return p.fail(e, "%q: port must be between 1 and 65535", s)
	}
	if ap.Addr().IsUnspecified() {
		p.warn(e.path, "%s listens on every interface; bind the credential service to the internal interface only", ap)
	}
	*dst = ap
	return nil
}

// pemFile decodes a file name, resolved against the configuration's
// directory.
func (p *parser) pemFile(e entry, dst *string) error {
	s, err := p.str(e)
	if err != nil {
		return err
	}
	if s == "" {
		return p.fail(e, "must not be empty")
	}
	if !filepath.IsAbs(s) {
		s = filepath.Join(p.dir, s)
	}
	*dst = s
	return nil
}

// keyFile decodes the name of a private key file, which must be a readable
// regular file; one that every user may read draws a warning.
func (p *parser) keyFile(e entry, dst *string) error {
	if err := p.pemFile(e, dst); err != nil {
		return err
	}
	info, err := os.Stat(*dst)
	switch {
	case err != nil:
		return p.fail(e, "cannot read %q: %s", *dst, unwrapPath(err))
	case !info.Mode().IsRegular():
		return p.fail(e, "%q is not a regular file", *dst)
	case info.Mode().Perm()&0o007 != 0:
		p.warn(e.path, "%q is accessible to all users (mode %04o); run: chmod 600 %s", *dst, info.Mode().Perm(), *dst)
	}
	return nil
}

// clientCAs checks that path holds certificates and warns about those that
// are not CA certificates: each would be trusted as a root by itself.
func (p *parser) clientCAs(e entry, path string) error {
	certs, err := pki.LoadCertificates(path)
	if err != nil {
		return p.fail(e, "%s", pkiReason(err))
	}
	for i, c := range certs {
		if !c.IsCA {
			p.warn(e.path, "certificate %d in %q (%q) is not a CA certificate; clients presenting exactly it are trusted", i+1, path, c.Subject.CommonName)
		}
	}
	return nil
}

// serverKeyPair checks that the key belongs to the certificate and that
// the certificate may serve TLS; certAt and keyAt are where to point errors.
func (p *parser) serverKeyPair(certAt, keyAt entry, certFile, keyFile string) error {
	pair, err := pki.LoadKeyPair(certFile, keyFile)
	if err != nil {
		return p.fail(keyAt, "%s", pkiReason(err))
	}
	e := certAt
	if eku := pair.Leaf.ExtKeyUsage; len(eku) > 0 && !slices.Contains(eku, x509.ExtKeyUsageServerAuth) && !slices.Contains(eku, x509.ExtKeyUsageAny) {
		return p.fail(e, "%q is not a TLS server certificate (its extended key usage lacks serverAuth)", certFile)
	}
	return nil
}

// pkiReason is a pki error without its package prefix, for a message that
// already names the key.
func pkiReason(err error) string { return strings.TrimPrefix(err.Error(), "pki: ") }

// trustedClients decodes the list of trusted client DNS names: exact names
// (compared without regard to case), no wildcards, no duplicates.
func (p *parser) trustedClients(e entry, dst *[]string) error {
	return p.dnsNames(e, dst, "at least one client name is required", func(item entry, s, name string) error {
		switch {
		case strings.Contains(s, "*"):
			return p.fail(item, "%q: wildcards are not supported; list each client name", s)
		case !isHostName(name):
			return p.fail(item, "%q: not a DNS name", s)
		}
		return nil
	})
}

// dnsNames decodes a list of DNS names into dst, lower-cased: at least one
// (else the error empty), each passing check (given the item, its text and
// the lower-cased name), no duplicates.
func (p *parser) dnsNames(e entry, dst *[]string, empty string, check func(item entry, s, name string) error) error {
	items, err := p.list(e)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return p.fail(e, "%s", empty)
	}
	seen := make(map[string]int, len(items))
	for i, item := range items {
		s, err := p.str(item)
		if err != nil {
			return err
		}
		name := strings.ToLower(s)
		if err := check(item, s, name); err != nil {
			return err
		}
		if j, dup := seen[name]; dup {
			return p.fail(item, "%q: duplicate of %s[%d]", s, e.path, j)
		}
		seen[name] = i
		*dst = append(*dst, name)
	}
	return nil
}

// rate decodes a token bucket.
func (p *parser) rate(e entry, dst *Rate) error {
	_, err := p.mapping(e, []field{
		{"per_second", func(e entry) error {
			v, err := p.number(e, maxRatePerSecond)
			dst.PerSecond = v
			return err
		}},
		{"burst", func(e entry) error {
			n, err := p.integer(e, 1, maxRateBurst)
			dst.Burst = n
			return err
		}},
	})
	return err
}

// finishCredentialService checks the service against the rest of the
// configuration and fills in the defaults that depend on it.
func (p *parser) finishCredentialService() error {
	cs := p.cfg.CredentialService
	if cs == nil {
		return nil
	}
	if len(p.cfg.Auth.Secrets) == 0 {
		return p.failAt(p.where("auth.secrets", "credential_service"), "auth.secrets",
			"the credential service signs with a shared secret: at least one is required")
	}
	maxLife := p.cfg.Auth.MaxCredentialLifetime
	switch {
	case cs.MaxTTL == 0:
		cs.MaxTTL = min(defaultMaxTTL, maxLife)
	case cs.MaxTTL > maxLife:
		return p.failAt(p.where("credential_service.max_ttl"), "credential_service.max_ttl",
			"%s exceeds auth.max_credential_lifetime (%s): the relay would refuse such credentials",
			formatDuration(cs.MaxTTL), formatDuration(maxLife))
	}
	return p.finishServiceRelays(cs)
}
