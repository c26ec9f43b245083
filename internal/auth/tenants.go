package auth

import (
	"fmt"
	"maps"
)

// DefaultTenant is the name of the tenant that Options' own realm and
// credentials make up, unless Options.Tenant names it otherwise.
const DefaultTenant = "default"

// MaxTenants bounds the tenants of one Authenticator, the default one
// included, so that per-tenant counters stay small arrays.
const MaxTenants = 64

// TenantOptions are one tenant of an edge that hosts several customers or
// applications: its realm and its own credential sources (see Options for
// each source). A credential of one tenant never authenticates a request
// that names another tenant's realm.
type TenantOptions struct {
	// Name names the tenant in results, metrics and records (required).
	Name string
	// Realm is the tenant's REALM (required, unique among the tenants).
	Realm string
	// Keyring, Users and Hook are the tenant's credential sources; at
	// least one is required.
	Keyring *Keyring
	Users   *Users
	Hook    Hook
	// Bound serves the tenant only on the listeners bound to it (see
	// Authenticator.Bound): the Authenticator itself does not accept its
	// realm.
	Bound bool
}

// tenant is one tenant's realm and credential sources.
type tenant struct {
	name, realm string
	index       int
	keyring     *Keyring
	static      map[string]string
	users       *Users
	hook        Hook
	bound       bool
}

// newTenants validates opts, the default tenant first, which alone may
// have static users (static), and returns the tenant table.
func newTenants(opts []TenantOptions, static map[string]string) ([]*tenant, error) {
	out := make([]*tenant, len(opts))
	names := make(map[string]bool, len(opts))
	realms := make(map[string]bool, len(opts))
	for i, o := range opts {
		switch {
		case o.Name == "":
			return nil, fmt.Errorf("%w: tenant %d has no name", ErrBadOptions, i)
		case o.Realm == "":
			return nil, fmt.Errorf("%w: empty realm (tenant %q)", ErrBadOptions, o.Name)
		case names[o.Name]:
			return nil, fmt.Errorf("%w: duplicate tenant %q", ErrBadOptions, o.Name)
		case realms[o.Realm]:
			return nil, fmt.Errorf("%w: realm %q of tenant %q is another tenant's", ErrBadOptions, o.Realm, o.Name)
		case o.Keyring == nil && o.Users == nil && o.Hook == nil && (i > 0 || len(static) == 0):
			return nil, fmt.Errorf("%w: neither keyring nor users (tenant %q)", ErrBadOptions, o.Name)
		}
		names[o.Name], realms[o.Realm] = true, true
		out[i] = &tenant{
			name: o.Name, realm: o.Realm, index: i, keyring: o.Keyring, users: o.Users, hook: o.Hook, bound: o.Bound,
		}
	}
	out[0].static = maps.Clone(static)
	return out, nil
}

// Tenants returns the names of the tenants, the default one first; a
// Result's TenantIndex indexes it.
func (a *Authenticator) Tenants() []string {
	out := make([]string, len(a.tenants))
	for i, t := range a.tenants {
		out[i] = t.name
	}
	return out
}

// Bound returns the Authenticator of a listener bound to the tenant called
// name: its challenges carry that tenant's realm, and it accepts requests
// that name that realm only, whatever tenants a accepts. It shares a's
// tenants, nonces and settings. It returns false for an unknown name.
//
// Clients take the realm from the 401 (RFC 8489 §9.2.3), so a tenant
// whose clients cannot be configured with its realm (browsers) reaches
// its realm only through a listener bound to it.
func (a *Authenticator) Bound(name string) (*Authenticator, bool) {
	for _, t := range a.tenants {
		if t.name == name {
			b := *a
			b.challenge, b.accept = t, map[string]*tenant{t.realm: t}
			return &b, true
		}
	}
	return nil, false
}
