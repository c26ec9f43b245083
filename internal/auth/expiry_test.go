package auth

import (
	"errors"
	"testing"
	"time"
)

// TestAuthenticatePastExpiry shows which requests pass once their
// ephemeral credential has expired: those naming the username their
// 5-tuple's allocation holds, unless expiry is strict.
func TestAuthenticatePastExpiry(t *testing.T) {
	for _, strict := range []bool{false, true} {
		f := newFixture(t)
		f.auth.strict = strict
		r := f.rest(t, secretNew, 40*time.Second)
		if res, err := f.auth.Authenticate(r.build(t), clientA, ""); err != nil || res.PastExpiry {
			t.Fatalf("strict=%v: fresh credential: %+v, %v", strict, res, err)
		}
		f.clk.Advance(41 * time.Second)
		r.nonce = f.nonces.Issue(clientA)
		if _, err := f.auth.Authenticate(r.build(t), clientA, ""); !errors.Is(err, ErrExpired) || !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("strict=%v: expired, nothing held: err = %v, want ErrExpired", strict, err)
		}
		if _, err := f.auth.Authenticate(r.build(t), clientA, "1:someone-else"); !errors.Is(err, ErrExpired) {
			t.Errorf("strict=%v: expired, another username held: err = %v, want ErrExpired", strict, err)
		}
		res, err := f.auth.Authenticate(r.build(t), clientA, r.username)
		switch {
		case strict && !errors.Is(err, ErrExpired):
			t.Errorf("strict: expired, own username held: err = %v, want ErrExpired", err)
		case !strict && (err != nil || !res.PastExpiry || res.Identity != "alice" || res.Key == nil):
			t.Errorf("expired, own username held: %+v, %v; want authenticated past expiry", res, err)
		}
		// The waiver covers the expiry only: a forged MAC still fails.
		bad := r
		bad.password = "wrong"
		if _, err := f.auth.Authenticate(bad.build(t), clientA, r.username); !errors.Is(err, ErrBadIntegrity) && !errors.Is(err, ErrExpired) {
			t.Errorf("strict=%v: held username, wrong password: err = %v", strict, err)
		}
	}
}

// TestAuthenticateRevoked shows that a revoked identity's requests fail
// with ErrRevoked, held or not, ephemeral or static, and others pass.
func TestAuthenticateRevoked(t *testing.T) {
	f := newFixture(t)
	type call struct {
		identity string
		expiry   time.Time
	}
	var calls []call
	f.auth.revoked = func(identity string, expiry, _ time.Time) bool {
		calls = append(calls, call{identity, expiry})
		return identity == "alice" || identity == "dev"
	}
	r := f.rest(t, secretNew, time.Hour)
	for _, held := range []string{"", r.username} {
		if _, err := f.auth.Authenticate(r.build(t), clientA, held); !errors.Is(err, ErrRevoked) || !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("held %q: err = %v, want ErrRevoked", held, err)
		}
	}
	if len(calls) == 0 || calls[0].identity != "alice" || !calls[0].expiry.Equal(t0.Add(time.Hour)) {
		t.Errorf("Revoked called with %+v, want alice and the credential's expiry", calls)
	}
	static := request{username: "dev", realm: testRealm, password: "devpass", nonce: f.nonces.Issue(clientA), mi: true}
	if _, err := f.auth.Authenticate(static.build(t), clientA, ""); !errors.Is(err, ErrRevoked) {
		t.Errorf("static user: err = %v, want ErrRevoked", err)
	}
	user, pass, err := Issue(secretNew, "bob", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	bob := request{username: user, realm: testRealm, password: pass, nonce: f.nonces.Issue(clientA), mi: true}
	if _, err := f.auth.Authenticate(bob.build(t), clientA, ""); err != nil {
		t.Errorf("bob, not revoked: %v", err)
	}
}
