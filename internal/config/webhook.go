package config

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/avedge/avedge/internal/authhook"
	"github.com/avedge/avedge/internal/pki"
)

// Webhook configures the auth webhook (auth.webhook): an HTTPS service
// asked for the credential of a username the edge does not know (see
// internal/authhook for the protocol).
type Webhook struct {
	// URL is the service's https URL; plain http is accepted to a
	// loopback address only (a sidecar on the same host).
	URL string
	// CAFile holds the PEM certificates the service's certificate must
	// chain to; empty: the system's roots.
	CAFile string
	// CertFile and KeyFile hold the client certificate and key the edge
	// presents (mTLS); both or neither.
	CertFile, KeyFile string
	// TokenFile holds a bearer token sent as "Authorization: Bearer";
	// Token is its content, never printed.
	TokenFile string
	Token     []byte `json:"-" key:"token_file"`
	// Timeout bounds one lookup, connection and handshake included.
	Timeout time.Duration
	// Cache is how long an allowed answer is reused; NegativeCache how
	// long a refusal or a failed lookup is.
	Cache, NegativeCache time.Duration
	// MaxCacheEntries bounds the usernames whose answers are kept.
	MaxCacheEntries int
}

const (
	minWebhookTimeout       = 100 * time.Millisecond
	minWebhookCache         = time.Second
	maxWebhookCache         = time.Hour
	minWebhookNegative      = time.Second
	maxWebhookNegative      = 10 * time.Minute
	maxWebhookCacheEntries  = 1_000_000
	minWebhookTokenLength   = 16
	webhookTokenLengthLimit = 4096
)

// MarshalJSON writes w with its durations as strings and without the
// token.
func (w Webhook) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		URL             string `json:"url"`
		CAFile          string `json:"ca_file"`
		CertFile        string `json:"cert_file"`
		KeyFile         string `json:"key_file"`
		TokenFile       string `json:"token_file"`
		Timeout         string `json:"timeout"`
		Cache           string `json:"cache"`
		NegativeCache   string `json:"negative_cache"`
		MaxCacheEntries int    `json:"max_cache_entries"`
	}{w.URL, w.CAFile, w.CertFile, w.KeyFile, w.TokenFile, formatDuration(w.Timeout), formatDuration(w.Cache),
		formatDuration(w.NegativeCache), w.MaxCacheEntries})
}

// webhook decodes auth.webhook; its presence enables the webhook.
func (p *parser) webhook(e entry, dst **Webhook) error {
	w := &Webhook{Timeout: authhook.DefaultTimeout, Cache: authhook.DefaultCache,
		NegativeCache: authhook.DefaultNegativeCache, MaxCacheEntries: authhook.DefaultMaxCacheEntries}
	seen, err := p.mapping(e, []field{
		{"url", func(e entry) error { return p.webhookURL(e, &w.URL) }},
		{"ca_file", func(e entry) error {
			if err := p.pemFile(e, &w.CAFile); err != nil {
				return err
			}
			if _, err := pki.LoadCertificates(w.CAFile); err != nil {
				return p.fail(e, "%s", pkiReason(err))
			}
			return nil
		}},
		{"cert_file", func(e entry) error {
			if err := p.pemFile(e, &w.CertFile); err != nil {
				return err
			}
			if _, err := pki.LoadCertificates(w.CertFile); err != nil {
				return p.fail(e, "%s", pkiReason(err))
			}
			return nil
		}},
		{"key_file", func(e entry) error { return p.keyFile(e, &w.KeyFile) }},
		{"token_file", func(e entry) error { return p.webhookToken(e, w) }},
		{"timeout", func(e entry) error {
			d, err := p.duration(e, minWebhookTimeout, authhook.MaxTimeout)
			w.Timeout = d
			return err
		}},
		{"cache", func(e entry) error {
			d, err := p.duration(e, minWebhookCache, maxWebhookCache)
			w.Cache = d
			return err
		}},
		{"negative_cache", func(e entry) error {
			d, err := p.duration(e, minWebhookNegative, maxWebhookNegative)
			w.NegativeCache = d
			return err
		}},
		{"max_cache_entries", func(e entry) error {
			n, err := p.integer(e, 1, maxWebhookCacheEntries)
			w.MaxCacheEntries = n
			return err
		}},
	})
	if err != nil {
		return err
	}
	if err := p.require(e, seen, "url"); err != nil {
		return err
	}
	_, hasCert := seen["cert_file"]
	key, hasKey := seen["key_file"]
	switch {
	case hasCert && !hasKey:
		return p.failAt(e.at, child(e.path, "key_file"), "required with cert_file (the client certificate's key)")
	case hasKey && !hasCert:
		return p.failAt(e.at, child(e.path, "cert_file"), "required with key_file (the client certificate)")
	case hasCert:
		if _, err := pki.LoadKeyPair(w.CertFile, w.KeyFile); err != nil {
			return p.fail(key, "%s", pkiReason(err))
		}
	}
	*dst = w
	return nil
}

// webhookURL decodes the service's URL: https, or http to a loopback
// address; a host; no user:password (use token_file), query or fragment
// (they would carry secrets into the effective configuration and logs).
// Errors do not quote it.
func (p *parser) webhookURL(e entry, dst *string) error {
	s, err := p.str(e)
	if err != nil {
		return err
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return p.fail(e, "not an absolute URL such as \"https://auth.internal.example.com/turn\"")
	case u.User != nil:
		return p.fail(e, "must not hold a user name or password: put a bearer token in token_file")
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#"):
		return p.fail(e, "must not hold a query or fragment (they could carry secrets): put a bearer token in token_file")
	case u.Scheme == "https":
	case u.Scheme == "http" && authhook.IsLoopback(u.Hostname()):
	case u.Scheme == "http":
		return p.fail(e, "plain http is allowed to a loopback address only; use https")
	default:
		return p.fail(e, "the scheme must be https")
	}
	*dst = s
	return nil
}

// webhookToken reads the bearer token of token_file: printable ASCII
// without spaces, at least 16 bytes; the value is never echoed.
func (p *parser) webhookToken(e entry, w *Webhook) error {
	var name string
	if err := p.pemFile(e, &name); err != nil {
		return err
	}
	v, mode, err := ReadSecretFile(name)
	if err != nil {
		return p.fail(e, "%s", err)
	}
	if len(v) < minWebhookTokenLength || len(v) > webhookTokenLengthLimit {
		return p.fail(e, "%q: the token must be %d to %d bytes (generate one with: openssl rand -hex 32)", name, minWebhookTokenLength, webhookTokenLengthLimit)
	}
	for _, c := range v {
		if c <= ' ' || c > '~' {
			return p.fail(e, "%q: the token must be printable ASCII without spaces", name)
		}
	}
	if mode.Perm()&0o007 != 0 {
		p.warn(e.path, "%q is accessible to all users (mode %04o); run: chmod 640 %s", name, mode.Perm(), name)
	}
	w.TokenFile, w.Token = name, v
	return nil
}
