package auth

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// fakeHook answers from a map, or pending for usernames in pending.
type fakeHook struct {
	creds   map[string]Credential
	pending map[string]chan struct{}
	asked   []HookQuery
}

var errFakeRefused = errors.New("fake hook: refused")

func (h *fakeHook) Credential(q HookQuery) (Credential, error) {
	h.asked = append(h.asked, q)
	if ch, ok := h.pending[q.Username]; ok {
		return Credential{}, &Pending{Done: ch}
	}
	if c, ok := h.creds[q.Username]; ok {
		return c, nil
	}
	return Credential{}, errFakeRefused
}

func newHookFixture(t *testing.T, h Hook, revoked func(string) bool) *fixture {
	t.Helper()
	f := newFixture(t)
	opts := Options{Realm: testRealm, Keyring: f.keyring, Nonces: f.nonces, Clock: f.clk, Hook: h}
	if revoked != nil {
		opts.Revoked = func(id string, _, _ time.Time) bool { return revoked(id) }
	}
	a, err := NewAuthenticator(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.auth = a
	return f
}

func TestHook(t *testing.T) {
	done := make(chan struct{})
	h := &fakeHook{
		creds:   map[string]Credential{"bob": {Password: "bobpass"}, "carol": {Password: "carolpass"}},
		pending: map[string]chan struct{}{"dave": done},
	}
	f := newHookFixture(t, h, func(id string) bool { return id == "carol" })
	nonce := f.nonces.Issue(clientA)
	sign := func(user, pass string) request {
		return request{username: user, realm: testRealm, password: pass, nonce: nonce, mi: true}
	}

	res, err := f.auth.AuthenticateOn("tcp", sign("bob", "bobpass").build(t), clientA, "")
	if err != nil || res.Username != "bob" || res.Identity != "bob" || res.Key == nil {
		t.Fatalf("bob: %+v, %v", res, err)
	}
	if q := h.asked[len(h.asked)-1]; q != (HookQuery{Username: "bob", Realm: testRealm, Client: clientA, Transport: "tcp"}) {
		t.Errorf("hook asked %+v", q)
	}
	if _, err := f.auth.Authenticate(sign("bob", "wrong").build(t), clientA, ""); !errors.Is(err, ErrBadIntegrity) {
		t.Errorf("bob with a wrong password: %v, want ErrBadIntegrity", err)
	}
	if _, err := f.auth.Authenticate(sign("eve", "x").build(t), clientA, ""); !errors.Is(err, ErrUnknownUser) || !errors.Is(err, errFakeRefused) || !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("refused: %v, want ErrUnknownUser", err)
	}
	if _, err := f.auth.Authenticate(sign("carol", "carolpass").build(t), clientA, ""); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked: %v, want ErrRevoked", err)
	}
	_, err = f.auth.Authenticate(sign("dave", "x").build(t), clientA, "")
	var p *Pending
	if !errors.As(err, &p) || p.Done != done || errors.Is(err, ErrUnauthenticated) || !errors.Is(err, ErrPending) {
		t.Errorf("pending: %v", err)
	}

	// A nonce of another client: no lookup, a nonce error.
	n := len(h.asked)
	if _, err := f.auth.Authenticate(sign("bob", "bobpass").build(t), netip.MustParseAddrPort("198.51.100.7:1000"), ""); !errors.Is(err, ErrBadNonce) {
		t.Errorf("other client's nonce: %v, want ErrBadNonce", err)
	}
	if len(h.asked) != n {
		t.Error("the hook was asked about a request with a bad nonce")
	}

	// Local sources first: a valid ephemeral username never reaches it.
	if _, err := f.auth.Authenticate(f.rest(t, secretNew, time.Hour).build(t), clientA, ""); err != nil {
		t.Fatalf("ephemeral: %v", err)
	}
	if len(h.asked) != n {
		t.Error("the hook was asked about an ephemeral username")
	}
}

func TestHookIsACredentialSource(t *testing.T) {
	f := newFixture(t)
	if _, err := NewAuthenticator(Options{Realm: testRealm, Nonces: f.nonces, Hook: &fakeHook{}}); err != nil {
		t.Fatalf("hook alone: %v", err)
	}
}
