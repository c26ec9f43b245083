package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

const tenantRealm = "b.example.com"

var secretB = Secret{ID: "b", Value: []byte("tenant b secret value")}

// newTenantFixture returns the fixture of newFixture with a second
// tenant, "b", of realm tenantRealm and secret secretB; bound serves it
// on its listeners only.
func newTenantFixture(t *testing.T, bound bool) *fixture {
	t.Helper()
	f := newFixture(t)
	kb, err := NewKeyring([]Secret{secretB})
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAuthenticator(Options{
		Realm: testRealm, Keyring: f.keyring, Nonces: f.nonces, Clock: f.clk,
		Tenants: []TenantOptions{{Name: "b", Realm: tenantRealm, Keyring: kb, Bound: bound}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.auth = a
	return f
}

func TestTenantsByRealm(t *testing.T) {
	f := newTenantFixture(t, false)
	if got := f.auth.Tenants(); len(got) != 2 || got[0] != DefaultTenant || got[1] != "b" {
		t.Fatalf("Tenants() = %q, want [default b]", got)
	}
	if got := f.auth.Realm(); got != testRealm {
		t.Errorf("Realm() = %q, want the default tenant's %q", got, testRealm)
	}
	ok := func(secret Secret, realm, tenant string, index int) {
		t.Helper()
		r := f.rest(t, secret, time.Hour)
		r.realm = realm
		res, err := f.auth.Authenticate(r.build(t), clientA, "")
		if err != nil {
			t.Fatalf("secret %s in realm %s: %v", secret.ID, realm, err)
		}
		if res.Tenant != tenant || res.TenantIndex != index || res.Identity != "alice" {
			t.Errorf("secret %s in realm %s: tenant %q (%d), identity %q; want %q (%d), alice",
				secret.ID, realm, res.Tenant, res.TenantIndex, res.Identity, tenant, index)
		}
	}
	ok(secretNew, testRealm, DefaultTenant, 0)
	ok(secretB, tenantRealm, "b", 1)

	// A secret of one tenant does not authenticate in the other's realm.
	for _, c := range []struct {
		secret Secret
		realm  string
	}{{secretNew, tenantRealm}, {secretB, testRealm}} {
		r := f.rest(t, c.secret, time.Hour)
		r.realm = c.realm
		_, err := f.auth.Authenticate(r.build(t), clientA, "")
		if !errors.Is(err, ErrBadIntegrity) {
			t.Errorf("secret %s in realm %s: err %v, want ErrBadIntegrity", c.secret.ID, c.realm, err)
		}
	}
}

func TestTenantsBound(t *testing.T) {
	f := newTenantFixture(t, true)
	// The unbound Authenticator does not serve a bound tenant's realm.
	r := f.rest(t, secretB, time.Hour)
	r.realm = tenantRealm
	if _, err := f.auth.Authenticate(r.build(t), clientA, ""); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("bound tenant's realm on an unbound listener: err %v, want ErrUnauthenticated", err)
	}

	b, ok := f.auth.Bound("b")
	if !ok {
		t.Fatal("Bound(b) found no tenant")
	}
	var realm stun.Realm
	m, err := stun.Build(b.Challenge(clientA)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := realm.GetFrom(m); err != nil || realm.String() != tenantRealm {
		t.Errorf("bound challenge REALM = %q (%v), want %q", realm, err, tenantRealm)
	}
	res, err := b.Authenticate(r.build(t), clientA, "")
	if err != nil || res.Tenant != "b" {
		t.Errorf("tenant b on its listener: tenant %q, err %v", res.Tenant, err)
	}
	// A bound listener answers its own tenant only.
	d := f.rest(t, secretNew, time.Hour)
	if _, err := b.Authenticate(d.build(t), clientA, ""); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("default realm on b's listener: err %v, want ErrUnauthenticated", err)
	}
	if _, ok := f.auth.Bound("nobody"); ok {
		t.Error("Bound(nobody) found a tenant")
	}
}

func TestTenantsOptions(t *testing.T) {
	f := newFixture(t)
	kb, _ := NewKeyring([]Secret{secretB})
	for name, tenants := range map[string][]TenantOptions{
		"no name":        {{Realm: "x", Keyring: kb}},
		"no realm":       {{Name: "x", Keyring: kb}},
		"duplicate name": {{Name: DefaultTenant, Realm: "x", Keyring: kb}},
		"shared realm":   {{Name: "x", Realm: testRealm, Keyring: kb}},
		"no credentials": {{Name: "x", Realm: "x"}},
		"too many":       make([]TenantOptions, MaxTenants),
	} {
		_, err := NewAuthenticator(Options{Realm: testRealm, Keyring: f.keyring, Nonces: f.nonces, Tenants: tenants})
		if !errors.Is(err, ErrBadOptions) {
			t.Errorf("%s: err %v, want ErrBadOptions", name, err)
		}
	}
}
