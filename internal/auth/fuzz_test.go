package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/stunproto"
)

// FuzzAuthenticate feeds arbitrary messages to Authenticate. It must not
// panic, must classify every failure as exactly one of 400, 401 or 438, and
// a success must come with a key that signs a response.
func FuzzAuthenticate(f *testing.F) {
	clk := clock.NewFake(t0)
	kr, err := NewKeyring([]Secret{secretNew, secretOld})
	if err != nil {
		f.Fatal(err)
	}
	nonces := NewNonces(nonceKey, lifetime, clk)
	a, err := NewAuthenticator(Options{Realm: testRealm, Keyring: kr, Nonces: nonces, Clock: clk, StaticUsers: map[string]string{"dev": "devpass"}})
	if err != nil {
		f.Fatal(err)
	}
	user, pass, err := Issue(secretNew, "alice", t0.Add(time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	sha := stunproto.PasswordAlgorithm{Algorithm: stunproto.AlgSHA256}
	for _, r := range []request{
		{username: user, realm: testRealm, password: pass, nonce: nonces.Issue(clientA), mi: true},
		{username: user, realm: testRealm, password: pass, nonce: nonces.Issue(clientA), keyAlg: stunproto.AlgSHA256, algs: offered, alg: &sha, mi256: true},
		{username: "dev", realm: testRealm, password: "devpass", nonce: nonces.Issue(clientA), mi: true, mi256: true},
		{username: user, realm: testRealm, password: pass, nonce: nonces.Issue(clientA), alg: &sha, mi: true},
		{username: user, realm: testRealm, password: pass, nonce: nonces.Issue(clientA)},
	} {
		f.Add(r.build(f).Raw)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(stun.Message)
		if err := stun.Decode(b, m); err != nil {
			return
		}
		res, err := a.Authenticate(m, clientA, "")
		if err != nil {
			classes := 0
			for _, e := range []error{ErrBadRequest, ErrUnauthenticated, ErrStaleNonce, ErrBadNonce} {
				if errors.Is(err, e) {
					classes++
				}
			}
			if classes != 1 {
				t.Fatalf("error %v falls in %d response classes", err, classes)
			}
			return
		}
		if len(res.Key) == 0 {
			t.Fatal("success without key")
		}
		resp := stun.MustBuild(stun.NewType(stun.MethodAllocate, stun.ClassSuccessResponse), m)
		if err := res.Sign(resp); err != nil {
			t.Fatalf("Sign: %v", err)
		}
	})
}
