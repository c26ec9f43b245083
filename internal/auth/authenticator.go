package auth

import (
	"cmp"
	"fmt"
	"net/netip"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/stunproto"
)

// DefaultMaxCredentialLifetime is the longest an ephemeral credential may
// still have to live when presented, unless Options say otherwise.
const DefaultMaxCredentialLifetime = 8 * time.Hour

// Options configure an Authenticator.
type Options struct {
	// Realm is the REALM of this server (required).
	Realm string
	// Keyring holds the secrets of ephemeral credentials; nil disables them.
	Keyring *Keyring
	// StaticUsers maps usernames to passwords, for development only. It is
	// copied. A static user shadows an ephemeral username of the same text.
	StaticUsers map[string]string
	// Users, if set, are the long-term users of a users file, checked
	// after the static users and before ephemeral usernames; the table
	// may be replaced while requests are checked.
	Users *Users
	// MaxCredentialLifetime bounds how far ahead an ephemeral credential's
	// expiry may lie; 0 means DefaultMaxCredentialLifetime.
	MaxCredentialLifetime time.Duration
	// Nonces issues and verifies nonces (required).
	Nonces *Nonces
	// Clock tells the time for expiry checks; nil means clock.Real{}.
	Clock clock.Clock
	// StrictExpiry checks a credential's expiry on every request, as
	// RFC 8489 §9.2.4 reads: the first request on an allocation after its
	// credential expired is refused, and the call on it fails. Without
	// it, requests on an allocation that authenticate with the username
	// that made it pass after that username expired (see Authenticate);
	// the relay bounds such allocations by their age instead.
	StrictExpiry bool
	// Revoked, if set, reports whether the credentials of identity, of
	// the given expiry (zero for a static user), are revoked at now; such
	// requests fail with ErrRevoked. It is called for every authenticated
	// request and must be cheap and safe for concurrent use.
	Revoked func(identity string, expiry, now time.Time) bool
	// Hook, if set, is asked about the usernames no other source knows
	// (unknown, or not of the ephemeral form), once the request's nonce
	// has been verified (see Authenticate); its users are checked for
	// revocation as static users are.
	Hook Hook
	// Tenant names the tenant that Realm, Keyring, StaticUsers, Users and
	// Hook make up; empty means DefaultTenant.
	Tenant string
	// Tenants are further tenants, each with its own realm and
	// credentials (see Tenants); the nonces, lifetimes, expiry rules and
	// revocations are shared.
	Tenants []TenantOptions
}

// Authenticator checks requests with the STUN long-term credential mechanism
// (RFC 8489 §9.2). It is immutable after construction (the Keyrings may be
// updated) and safe for concurrent use.
//
// It holds a table of tenants (see TenantOptions): its challenges carry the
// realm of one of them (the default tenant's, or that of the tenant a
// Bound view serves), and a request is checked against the credentials of
// the tenant whose realm it names, among those it accepts.
type Authenticator struct {
	tenants     []*tenant
	challenge   *tenant            // whose realm 401s and 438s carry
	accept      map[string]*tenant // the tenants accepted, by realm
	maxLifetime time.Duration
	nonces      *Nonces
	clk         clock.Clock
	algorithms  stunproto.PasswordAlgorithms
	strict      bool
	revoked     func(identity string, expiry, now time.Time) bool
}

// NewAuthenticator validates opts and returns an Authenticator. It needs a
// Nonces and, for the default tenant and each of Tenants, a realm and at
// least one credential source (Keyring, StaticUsers, whose usernames and
// passwords must be non-empty, Users or Hook); tenant names and realms
// must be unique, and there may be at most MaxTenants tenants in all.
// Otherwise it returns ErrBadOptions.
func NewAuthenticator(opts Options) (*Authenticator, error) {
	switch {
	case opts.Nonces == nil:
		return nil, fmt.Errorf("%w: no nonces", ErrBadOptions)
	case opts.MaxCredentialLifetime < 0:
		return nil, fmt.Errorf("%w: negative maximum credential lifetime", ErrBadOptions)
	case len(opts.Tenants) >= MaxTenants:
		return nil, fmt.Errorf("%w: more than %d tenants", ErrBadOptions, MaxTenants)
	}
	for u, p := range opts.StaticUsers {
		if u == "" || p == "" {
			return nil, fmt.Errorf("%w: static user with empty name or password", ErrBadOptions)
		}
	}
	def := TenantOptions{
		Name: cmp.Or(opts.Tenant, DefaultTenant), Realm: opts.Realm, Keyring: opts.Keyring, Users: opts.Users, Hook: opts.Hook,
	}
	tenants, err := newTenants(append([]TenantOptions{def}, opts.Tenants...), opts.StaticUsers)
	if err != nil {
		return nil, err
	}
	a := &Authenticator{
		tenants:     tenants,
		challenge:   tenants[0],
		accept:      make(map[string]*tenant, len(tenants)),
		maxLifetime: opts.MaxCredentialLifetime,
		nonces:      opts.Nonces,
		clk:         opts.Clock,
		strict:      opts.StrictExpiry,
		revoked:     opts.Revoked,
		// Offered in order of preference (RFC 8489 §14.11).
		algorithms: stunproto.PasswordAlgorithms{{Algorithm: stunproto.AlgSHA256}, {Algorithm: stunproto.AlgMD5}},
	}
	for _, t := range tenants {
		if !t.bound {
			a.accept[t.realm] = t
		}
	}
	if a.maxLifetime == 0 {
		a.maxLifetime = DefaultMaxCredentialLifetime
	}
	if a.clk == nil {
		a.clk = clock.Real{}
	}
	return a, nil
}

// StrictExpiry reports whether credentials are checked for expiry on every
// request (Options.StrictExpiry).
func (a *Authenticator) StrictExpiry() bool { return a.strict }

// Realm returns the realm the Authenticator challenges with.
func (a *Authenticator) Realm() string { return a.challenge.realm }

// Nonce returns a fresh nonce for client, for the challenges of a
// dialect that builds its own (see AuthenticateWith).
func (a *Authenticator) Nonce(client netip.AddrPort) string { return a.nonces.Issue(client) }

// Challenge returns the REALM, a fresh NONCE for client and the
// PASSWORD-ALGORITHMS (SHA-256, then MD5) that a 401 or 438 answer carries
// (RFC 8489 §9.2.4).
func (a *Authenticator) Challenge(client netip.AddrPort) []stun.Setter {
	return []stun.Setter{
		stun.NewRealm(a.challenge.realm),
		stun.NewNonce(a.Nonce(client)),
		append(stunproto.PasswordAlgorithms(nil), a.algorithms...),
	}
}
