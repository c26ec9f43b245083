package config

import (
	"encoding/json"
	"time"
)

// Auth holds the credential configuration.
type Auth struct {
	// Secrets are the shared secrets of ephemeral ("TURN REST API")
	// credentials, newest first: the credential service signs with the
	// first, the relay accepts any.
	Secrets []Secret
	// NonceKey keys the stateless nonces. It is pool-wide when set
	// explicitly, else derived from the first secret (see deriveNonceKey).
	NonceKey []byte
	// NonceLifetime is how long a nonce is accepted before 438 Stale Nonce.
	NonceLifetime time.Duration
	// MaxCredentialLifetime refuses ephemeral credentials whose expiry lies
	// further ahead than this.
	MaxCredentialLifetime time.Duration
	// StaticUsers are fixed long-term credentials, for development only.
	StaticUsers []StaticUser
	// UsersFile names the users file: long-term users for devices that
	// cannot fetch credentials (SIP phones, IoT), one
	// "username:realm:key" a line, the key coturn's HA1 or a password
	// (auth.ParseUsersFile). The edge follows its changes while it runs.
	// Empty: none.
	UsersFile string
	// StrictExpiry checks a credential's expiry on every request, so a
	// call ends when the credential its allocation was made with
	// expires. Off, requests on an allocation that use the username that
	// made it pass after that credential expired, up to
	// MaxAllocationAge.
	StrictExpiry bool
	// MaxAllocationAge is the longest an allocation lives, refreshed or
	// not.
	MaxAllocationAge time.Duration
	// RevocationsFile holds the revoked identities: written by the admin
	// endpoints, watched for changes that other nodes or config
	// management make. Empty: revocations.json in the state directory.
	RevocationsFile string
	// RevocationsPoll is how often the revocations file is checked for
	// changes.
	RevocationsPoll time.Duration
	// Webhook, if set, is asked for the credentials of usernames no
	// other source knows.
	Webhook *Webhook
}

const (
	defaultNonceLifetime         = 10 * time.Minute
	minNonceLifetime             = 30 * time.Second
	maxNonceLifetime             = 24 * time.Hour
	defaultMaxCredentialLifetime = 8 * time.Hour
	minMaxCredentialLifetime     = time.Minute
	// maxMaxCredentialLifetime leaves applications that always issue
	// 24-hour credentials (Nextcloud Talk) room for clock skew:
	// "max_credential_lifetime: 24h10m".
	maxMaxCredentialLifetime = 25 * time.Hour
	defaultMaxAllocationAge  = 24 * time.Hour
	minMaxAllocationAge      = time.Minute
	maxMaxAllocationAge      = 7 * 24 * time.Hour
	defaultRevocationsPoll   = 10 * time.Second
	minRevocationsPoll       = time.Second
	maxRevocationsPoll       = time.Minute
)

// defaultAuth returns the auth defaults.
func defaultAuth() Auth {
	return Auth{
		NonceLifetime: defaultNonceLifetime, MaxCredentialLifetime: defaultMaxCredentialLifetime,
		MaxAllocationAge: defaultMaxAllocationAge, RevocationsPoll: defaultRevocationsPoll,
	}
}

// MarshalJSON writes a with the nonce key replaced by "REDACTED" and the
// lifetimes as duration strings.
func (a Auth) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Secrets               []Secret     `json:"secrets"`
		NonceKey              string       `json:"nonce_key"`
		NonceLifetime         string       `json:"nonce_lifetime"`
		MaxCredentialLifetime string       `json:"max_credential_lifetime"`
		StaticUsers           []StaticUser `json:"static_users"`
		UsersFile             string       `json:"users_file"`
		StrictExpiry          bool         `json:"strict_expiry"`
		MaxAllocationAge      string       `json:"max_allocation_age"`
		RevocationsFile       string       `json:"revocations_file"`
		RevocationsPoll       string       `json:"revocations_poll"`
		Webhook               *Webhook     `json:"webhook"`
	}{
		Secrets:               a.Secrets,
		NonceKey:              redact(a.NonceKey),
		NonceLifetime:         formatDuration(a.NonceLifetime),
		MaxCredentialLifetime: formatDuration(a.MaxCredentialLifetime),
		StaticUsers:           a.StaticUsers,
		UsersFile:             a.UsersFile,
		StrictExpiry:          a.StrictExpiry,
		MaxAllocationAge:      formatDuration(a.MaxAllocationAge),
		RevocationsFile:       a.RevocationsFile,
		RevocationsPoll:       formatDuration(a.RevocationsPoll),
		Webhook:               a.Webhook,
	})
}

// String returns a's JSON form, with the secrets redacted, so that
// printing an Auth never reveals them.
func (a Auth) String() string {
	b, err := a.MarshalJSON()
	if err != nil {
		return "config: " + err.Error()
	}
	return string(b)
}

// redact stands in for a secret value: "REDACTED", or "" when there is none.
func redact[T string | []byte](v T) string {
	if len(v) == 0 {
		return ""
	}
	return "REDACTED"
}

// auth decodes the auth section.
func (p *parser) auth(e entry, dst *Auth) error {
	_, err := p.mapping(e, []field{
		{"secrets", func(e entry) error { return p.secrets(e, &dst.Secrets) }},
		{"nonce_key", func(e entry) error {
			v, err := p.inlineSecret(e)
			dst.NonceKey = v
			return err
		}},
		{"nonce_key_file", func(e entry) error {
			v, err := p.secretFile(e)
			dst.NonceKey = v
			return err
		}},
		{"nonce_lifetime", func(e entry) error {
			d, err := p.duration(e, minNonceLifetime, maxNonceLifetime)
			dst.NonceLifetime = d
			return err
		}},
		{"max_credential_lifetime", func(e entry) error {
			d, err := p.duration(e, minMaxCredentialLifetime, maxMaxCredentialLifetime)
			dst.MaxCredentialLifetime = d
			return err
		}},
		{"static_users", func(e entry) error { return p.staticUsers(e, &dst.StaticUsers) }},
		{"users_file", func(e entry) error { return p.usersFile(e, &dst.UsersFile) }},
		{"strict_expiry", func(e entry) error {
			v, err := p.boolean(e)
			dst.StrictExpiry = v
			return err
		}},
		{"max_allocation_age", func(e entry) error {
			d, err := p.duration(e, minMaxAllocationAge, maxMaxAllocationAge)
			dst.MaxAllocationAge = d
			return err
		}},
		{"revocations_file", func(e entry) error { return p.stateFile(e, &dst.RevocationsFile) }},
		{"revocations_poll", func(e entry) error {
			d, err := p.duration(e, minRevocationsPoll, maxRevocationsPoll)
			dst.RevocationsPoll = d
			return err
		}},
		{"webhook", func(e entry) error { return p.webhook(e, &dst.Webhook) }},
	}, [2]string{"nonce_key", "nonce_key_file"})
	return err
}

// finishAuth requires some credentials and sets the nonce key when none was
// given.
func (p *parser) finishAuth() error {
	a := &p.cfg.Auth
	if len(a.Secrets) == 0 && len(a.StaticUsers) == 0 && a.UsersFile == "" && a.Webhook == nil {
		return p.failAt(p.where("auth.secrets", "auth"), "auth.secrets",
			"at least one secret, a users file (auth.users_file) or a webhook (auth.webhook) is required (or, for development, one static user)")
	}
	if err := p.checkUsersFile(); err != nil {
		return err
	}
	if len(a.NonceKey) > 0 {
		return nil
	}
	if len(a.Secrets) > 0 {
		a.NonceKey = deriveNonceKey(a.Secrets[0].Value)
		return nil
	}
	a.NonceKey = randomBytes(32)
	p.warn("auth.nonce_key", "not set and there are no secrets: using a random key, so nonces go stale on restart and other nodes refuse them")
	return nil
}
