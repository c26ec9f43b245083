package auth

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/stunproto"
)

const testRealm = "edge.example.org"

var (
	secretOld = Secret{ID: "old", Value: []byte("old secret value")}
	secretNew = Secret{ID: "new", Value: []byte("new secret value")}
	offered   = stunproto.PasswordAlgorithms{{Algorithm: stunproto.AlgSHA256}, {Algorithm: stunproto.AlgMD5}}
)

type fixture struct {
	clk     *clock.Fake
	nonces  *Nonces
	keyring *Keyring
	auth    *Authenticator
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := clock.NewFake(t0)
	kr, err := NewKeyring([]Secret{secretNew, secretOld})
	if err != nil {
		t.Fatal(err)
	}
	nonces := NewNonces(nonceKey, lifetime, clk)
	a, err := NewAuthenticator(Options{
		Realm: testRealm, Keyring: kr, Nonces: nonces, Clock: clk,
		StaticUsers: map[string]string{"dev": "devpass"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{clk: clk, nonces: nonces, keyring: kr, auth: a}
}

// request describes an authenticated request to build.
type request struct {
	username, realm, password, nonce string
	keyAlg                           uint16 // algorithm of the key used to sign
	algs                             stunproto.PasswordAlgorithms
	alg                              *stunproto.PasswordAlgorithm
	mi, mi256                        bool
	extra                            []stun.Setter
}

func (r request) build(t testing.TB) *stun.Message {
	t.Helper()
	setters := []stun.Setter{
		stun.NewType(stun.MethodAllocate, stun.ClassRequest), stun.TransactionID,
		stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP},
	}
	if r.username != "" {
		setters = append(setters, stun.NewUsername(r.username))
	}
	if r.realm != "" {
		setters = append(setters, stun.NewRealm(r.realm))
	}
	if r.nonce != "" {
		setters = append(setters, stun.NewNonce(r.nonce))
	}
	if r.algs != nil {
		setters = append(setters, r.algs)
	}
	if r.alg != nil {
		setters = append(setters, *r.alg)
	}
	setters = append(setters, r.extra...)
	keyAlg := r.keyAlg
	if keyAlg == 0 {
		keyAlg = stunproto.AlgMD5
	}
	key := Key(keyAlg, r.username, r.realm, r.password)
	if r.mi {
		setters = append(setters, stun.MessageIntegrity(key))
	}
	if r.mi256 {
		setters = append(setters, stunproto.NewMessageIntegritySHA256(key))
	}
	setters = append(setters, stun.Fingerprint)
	m, err := stun.Build(setters...)
	if err != nil {
		t.Fatal(err)
	}
	out := new(stun.Message)
	if err := stun.Decode(append([]byte(nil), m.Raw...), out); err != nil {
		t.Fatal(err)
	}
	return out
}

// rest returns a request with an ephemeral credential valid for ttl, signed
// with secret, using MESSAGE-INTEGRITY and a nonce issued to clientA.
func (f *fixture) rest(t *testing.T, secret Secret, ttl time.Duration) request {
	t.Helper()
	user, pass, err := Issue(secret, "alice", f.clk.Now().Add(ttl))
	if err != nil {
		t.Fatal(err)
	}
	return request{username: user, realm: testRealm, password: pass, nonce: f.nonces.Issue(clientA), mi: true}
}

func TestAuthenticate(t *testing.T) {
	sha := stunproto.PasswordAlgorithm{Algorithm: stunproto.AlgSHA256}
	md5 := stunproto.PasswordAlgorithm{Algorithm: stunproto.AlgMD5}
	tests := []struct {
		name    string
		req     func(f *fixture, r request) request
		advance time.Duration // clock advance after building the request
		client  netip.AddrPort
		err     []error // all must match; nil means success
		sha256  bool
	}{
		{name: "md5 message-integrity", req: func(_ *fixture, r request) request { return r }},
		{name: "no integrity", req: func(_ *fixture, r request) request { r.mi = false; return r }, err: []error{ErrUnauthenticated}},
		{name: "no username", req: func(_ *fixture, r request) request { r.username = ""; return r }, err: []error{ErrBadRequest}},
		{name: "no realm", req: func(_ *fixture, r request) request { r.realm = ""; return r }, err: []error{ErrBadRequest}},
		{name: "no nonce", req: func(_ *fixture, r request) request { r.nonce = ""; return r }, err: []error{ErrBadRequest}},
		{name: "other realm", req: func(_ *fixture, r request) request { r.realm = "other.example"; return r }, err: []error{ErrUnauthenticated}},
		{name: "wrong password", req: func(_ *fixture, r request) request { r.password = "guess"; return r }, err: []error{ErrBadIntegrity, ErrUnauthenticated}},
		{name: "mi-sha256 with md5 key", req: func(_ *fixture, r request) request { r.mi, r.mi256 = false, true; return r }, sha256: true},
		{
			name: "mi-sha256 with sha256 key",
			req: func(_ *fixture, r request) request {
				r.mi, r.mi256, r.keyAlg, r.algs, r.alg = false, true, stunproto.AlgSHA256, offered, &sha
				return r
			},
			sha256: true,
		},
		{
			name: "message-integrity with md5 chosen explicitly",
			req: func(_ *fixture, r request) request {
				r.algs, r.alg = offered, &md5
				return r
			},
		},
		{
			name: "both, sha256 good, sha1 bad",
			req: func(_ *fixture, r request) request {
				r.mi256 = true
				r.extra = []stun.Setter{stun.RawAttribute{Type: stun.AttrMessageIntegrity, Value: make([]byte, 20)}}
				r.mi = false
				return r
			},
			sha256: true,
		},
		{
			name: "both, sha1 good, sha256 bad",
			req: func(_ *fixture, r request) request {
				r.extra = []stun.Setter{stun.RawAttribute{Type: stun.AttrMessageIntegritySHA256, Value: make([]byte, 32)}}
				return r
			},
			err: []error{ErrBadIntegrity},
		},
		{
			name: "mi-sha256 bad length",
			req: func(_ *fixture, r request) request {
				r.mi = false
				r.extra = []stun.Setter{stun.RawAttribute{Type: stun.AttrMessageIntegritySHA256, Value: make([]byte, 12)}}
				return r
			},
			err: []error{ErrBadRequest},
		},
		{
			name: "bid-down: algorithm without list",
			req:  func(_ *fixture, r request) request { r.alg = &md5; return r },
			err:  []error{ErrBadRequest},
		},
		{
			name: "bid-down: list without algorithm",
			req:  func(_ *fixture, r request) request { r.algs = offered; return r },
			err:  []error{ErrBadRequest},
		},
		{
			name: "bid-down: list stripped of sha256",
			req: func(_ *fixture, r request) request {
				r.algs, r.alg = stunproto.PasswordAlgorithms{md5}, &md5
				return r
			},
			err: []error{ErrBadRequest},
		},
		{
			name: "bid-down: list reordered",
			req: func(_ *fixture, r request) request {
				r.algs, r.alg = stunproto.PasswordAlgorithms{md5, sha}, &md5
				return r
			},
			err: []error{ErrBadRequest},
		},
		{
			name: "bid-down: algorithm not in list",
			req: func(_ *fixture, r request) request {
				r.algs, r.alg = offered, &stunproto.PasswordAlgorithm{Algorithm: 0x0003}
				return r
			},
			err: []error{ErrBadRequest},
		},
		{
			name: "no nonce cookie: algorithms ignored, md5 key, nonce rejected",
			req: func(_ *fixture, r request) request {
				r.nonce, r.algs, r.alg = "f//499k954d6OL34oL9FSTvy64sA", stunproto.PasswordAlgorithms{md5}, &sha
				return r
			},
			err: []error{ErrBadNonce},
		},
		{name: "expired", req: func(_ *fixture, r request) request { return r }, advance: time.Hour + time.Second, err: []error{ErrExpired, ErrUnauthenticated}},
		{name: "expires now", req: func(_ *fixture, r request) request { return r }, advance: time.Hour, err: []error{ErrExpired}},
		{
			name: "too far ahead",
			req: func(f *fixture, _ request) request {
				return f.rest(t, secretNew, DefaultMaxCredentialLifetime+MaxClockSkew+time.Second)
			},
			err: []error{ErrTooFarAhead, ErrUnauthenticated},
		},
		{
			name: "max lifetime from a clock 2 minutes ahead",
			req: func(f *fixture, _ request) request {
				return f.rest(t, secretNew, DefaultMaxCredentialLifetime+2*time.Minute)
			},
			err: []error{ErrTooFarAhead, ErrUnauthenticated},
		},
		{
			name: "max lifetime from a clock 30 seconds ahead",
			req: func(f *fixture, _ request) request {
				return f.rest(t, secretNew, DefaultMaxCredentialLifetime+30*time.Second)
			},
		},
		{
			name: "max lifetime from a clock half a second ahead",
			req: func(f *fixture, _ request) request {
				return f.rest(t, secretNew, DefaultMaxCredentialLifetime+500*time.Millisecond)
			},
		},
		{
			name: "exactly max lifetime",
			req:  func(f *fixture, _ request) request { return f.rest(t, secretNew, DefaultMaxCredentialLifetime) },
		},
		{name: "older active secret", req: func(f *fixture, _ request) request { return f.rest(t, secretOld, time.Hour) }},
		{
			name: "unknown secret",
			req: func(f *fixture, _ request) request {
				return f.rest(t, Secret{ID: "x", Value: []byte("never configured")}, time.Hour)
			},
			err: []error{ErrBadIntegrity},
		},
		{
			name: "malformed ephemeral username",
			req:  func(_ *fixture, r request) request { r.username = "alice"; return r },
			err:  []error{ErrUnknownUser, ErrBadUsername, ErrUnauthenticated},
		},
		{
			name: "static user",
			req: func(_ *fixture, r request) request {
				r.username, r.password = "dev", "devpass"
				return r
			},
		},
		{name: "replay from another port", req: func(_ *fixture, r request) request { return r }, client: otherPort, err: []error{ErrBadNonce}},
		{name: "replay from another address", req: func(_ *fixture, r request) request { return r }, client: otherIP, err: []error{ErrBadNonce}},
		{name: "stale nonce", req: func(_ *fixture, r request) request { return r }, advance: lifetime + time.Second, err: []error{ErrStaleNonce}},
		{
			name: "forged nonce with cookie",
			req:  func(_ *fixture, r request) request { r.nonce = nonceCookieWithFeatures + "forged"; return r },
			err:  []error{ErrBadNonce},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			m := tc.req(f, f.rest(t, secretNew, time.Hour)).build(t)
			f.clk.Advance(tc.advance)
			client := tc.client
			if !client.IsValid() {
				client = clientA
			}
			res, err := f.auth.Authenticate(m, client, "")
			if tc.err == nil {
				if err != nil {
					t.Fatalf("Authenticate: %v", err)
				}
				if res.SHA256 != tc.sha256 || len(res.Key) == 0 || res.Username == "" || res.Identity == "" {
					t.Errorf("result %+v, want SHA256=%v and fields set", res, tc.sha256)
				}
				return
			}
			for _, want := range tc.err {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want it to match %v", err, want)
				}
			}
			if errors.Is(err, ErrBadRequest) && errors.Is(err, ErrUnauthenticated) {
				t.Errorf("err %v matches both 400 and 401", err)
			}
		})
	}
}

func TestAuthenticatePionLongTermIntegrity(t *testing.T) {
	f := newFixture(t)
	expiry := t0.Add(time.Hour)
	user, pass, err := Issue(f.keyring.Newest(), "bob@example.org", expiry)
	if err != nil {
		t.Fatal(err)
	}
	m, err := stun.Build(stun.NewType(stun.MethodRefresh, stun.ClassRequest), stun.TransactionID,
		stun.NewUsername(user), stun.NewRealm(testRealm), stun.NewNonce(f.nonces.Issue(clientA)),
		stun.NewLongTermIntegrity(user, testRealm, pass), stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.auth.Authenticate(m, clientA, "")
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if res.Username != user || res.Identity != "bob@example.org" || !res.Expires.Equal(expiry) || res.SHA256 {
		t.Errorf("result %+v", res)
	}
	// The response signed with the result verifies with the client's key.
	resp, err := stun.Build(stun.NewType(stun.MethodRefresh, stun.ClassSuccessResponse), m, stunproto.Lifetime{Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Sign(resp); err != nil {
		t.Fatal(err)
	}
	if err := stun.Fingerprint.AddTo(resp); err != nil {
		t.Fatal(err)
	}
	if err := stun.NewLongTermIntegrity(user, testRealm, pass).Check(resp); err != nil {
		t.Errorf("client cannot verify the signed response: %v", err)
	}
}

func TestResultSignSHA256(t *testing.T) {
	key := Key(stunproto.AlgSHA256, "u", testRealm, "p")
	resp := stun.MustBuild(stun.NewType(stun.MethodAllocate, stun.ClassSuccessResponse), stun.TransactionID)
	if err := (Result{Key: key, SHA256: true}).Sign(resp); err != nil {
		t.Fatal(err)
	}
	if err := stunproto.NewMessageIntegritySHA256(key).Check(resp); err != nil {
		t.Errorf("MESSAGE-INTEGRITY-SHA256: %v", err)
	}
	if resp.Contains(stun.AttrMessageIntegrity) {
		t.Error("SHA256 result also added MESSAGE-INTEGRITY")
	}
	withFP := stun.MustBuild(stun.BindingSuccess, stun.TransactionID, stun.Fingerprint)
	if err := (Result{Key: key, SHA256: true}).Sign(withFP); !errors.Is(err, stunproto.ErrFingerprintBeforeIntegrity) {
		t.Errorf("Sign after FINGERPRINT = %v", err)
	}
}

func TestAuthenticateStaleNonceResult(t *testing.T) {
	f := newFixture(t)
	m := f.rest(t, secretNew, time.Hour).build(t)
	f.clk.Advance(lifetime + time.Second)
	res, err := f.auth.Authenticate(m, clientA, "")
	if !errors.Is(err, ErrStaleNonce) || len(res.Key) == 0 {
		t.Errorf("err %v, key %x: want ErrStaleNonce with the verified key", err, res.Key)
	}
}

func TestAuthenticateRotation(t *testing.T) {
	f := newFixture(t)
	third := Secret{ID: "third", Value: []byte("third secret")}
	oldReq := f.rest(t, secretOld, time.Hour).build(t)
	thirdReq := f.rest(t, third, time.Hour).build(t)
	steps := []struct {
		name     string
		secrets  []Secret
		oldErr   error
		thirdErr error
	}{
		{"initial", []Secret{secretNew, secretOld}, nil, ErrBadIntegrity},
		{"third added", []Secret{third, secretNew, secretOld}, nil, nil},
		{"old removed", []Secret{third, secretNew}, ErrBadIntegrity, nil},
	}
	for _, s := range steps {
		if err := f.keyring.Set(s.secrets); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.Authenticate(oldReq, clientA, ""); !errors.Is(err, s.oldErr) {
			t.Errorf("%s: old credential: %v, want %v", s.name, err, s.oldErr)
		}
		if _, err := f.auth.Authenticate(thirdReq, clientA, ""); !errors.Is(err, s.thirdErr) {
			t.Errorf("%s: third credential: %v, want %v", s.name, err, s.thirdErr)
		}
	}
}

func TestAuthenticateStaticOnly(t *testing.T) {
	clk := clock.NewFake(t0)
	nonces := NewNonces(nonceKey, lifetime, clk)
	a, err := NewAuthenticator(Options{Realm: testRealm, Nonces: nonces, StaticUsers: map[string]string{"dev": "devpass"}})
	if err != nil {
		t.Fatal(err)
	}
	r := request{username: "dev", realm: testRealm, password: "devpass", nonce: nonces.Issue(clientA), mi: true}
	if res, err := a.Authenticate(r.build(t), clientA, ""); err != nil || res.Identity != "dev" || !res.Expires.IsZero() {
		t.Errorf("static user: %+v, %v", res, err)
	}
	r.username = "1700003600:alice"
	if _, err := a.Authenticate(r.build(t), clientA, ""); !errors.Is(err, ErrUnknownUser) || !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("unknown user: %v", err)
	}
}

func TestChallenge(t *testing.T) {
	f := newFixture(t)
	if f.auth.Realm() != testRealm {
		t.Errorf("Realm() = %q", f.auth.Realm())
	}
	setters := append([]stun.Setter{stun.NewType(stun.MethodAllocate, stun.ClassErrorResponse), stun.TransactionID, stun.CodeUnauthorized},
		f.auth.Challenge(clientA)...)
	m, err := stun.Build(setters...)
	if err != nil {
		t.Fatal(err)
	}
	var (
		realm stun.Realm
		nonce stun.Nonce
		algs  stunproto.PasswordAlgorithms
	)
	if err := m.Parse(&realm, &nonce, &algs); err != nil {
		t.Fatal(err)
	}
	if realm.String() != testRealm || !algs.Equal(offered) {
		t.Errorf("realm %q, algorithms %+v", realm, algs)
	}
	if err := f.nonces.Verify(nonce.String(), clientA); err != nil || !noncePasswordAlgorithms(nonce.String()) {
		t.Errorf("challenge nonce %q: %v", nonce, err)
	}
	// A client following RFC 8489 §9.2.5 echoes the list and picks SHA-256.
	sha := stunproto.PasswordAlgorithm{Algorithm: stunproto.AlgSHA256}
	user, pass, _ := Issue(secretNew, "carol", t0.Add(time.Hour))
	r := request{username: user, realm: realm.String(), password: pass, nonce: nonce.String(), keyAlg: stunproto.AlgSHA256, algs: algs, alg: &sha, mi256: true}
	if _, err := f.auth.Authenticate(r.build(t), clientA, ""); err != nil {
		t.Errorf("retry after challenge: %v", err)
	}
}

func TestNewAuthenticatorOptions(t *testing.T) {
	nonces := NewNonces(nonceKey, lifetime, nil)
	kr, err := NewKeyring([]Secret{secretNew})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		err  error
	}{
		{"keyring", Options{Realm: "r", Nonces: nonces, Keyring: kr}, nil},
		{"static", Options{Realm: "r", Nonces: nonces, StaticUsers: map[string]string{"u": "p"}}, nil},
		{"no realm", Options{Nonces: nonces, Keyring: kr}, ErrBadOptions},
		{"no nonces", Options{Realm: "r", Keyring: kr}, ErrBadOptions},
		{"no credentials", Options{Realm: "r", Nonces: nonces}, ErrBadOptions},
		{"empty static password", Options{Realm: "r", Nonces: nonces, StaticUsers: map[string]string{"u": ""}}, ErrBadOptions},
		{"negative lifetime", Options{Realm: "r", Nonces: nonces, Keyring: kr, MaxCredentialLifetime: -time.Hour}, ErrBadOptions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := NewAuthenticator(tc.opts)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && (a.maxLifetime != DefaultMaxCredentialLifetime || a.clk == nil) {
				t.Errorf("defaults not applied: %v %v", a.maxLifetime, a.clk)
			}
		})
	}
}
