package credsvc_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/credsvctest"
	"github.com/avedge/avedge/internal/pki"
)

// handlerEnv is a Handler driven without sockets.
type handlerEnv struct {
	*credsvctest.HandlerEnv
	t testing.TB
}

func newHandlerEnv(t testing.TB, mod func(*credsvc.Options)) *handlerEnv {
	t.Helper()
	return &handlerEnv{HandlerEnv: credsvctest.NewHandlerEnv(t, mod), t: t}
}

// do sends a request from a client holding cert (none when nil).
func (e *handlerEnv) do(cert *x509.Certificate, method, target, contentType, body string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.RemoteAddr = "192.0.2.1:40000"
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if cert != nil {
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}, VerifiedChains: [][]*x509.Certificate{{cert}}}
	}
	w := httptest.NewRecorder()
	e.Handler.ServeHTTP(w, r)
	return w
}

// post sends POST /v1/credentials with a JSON body from the trusted app.
func (e *handlerEnv) post(body string) *httptest.ResponseRecorder {
	return e.do(e.App, http.MethodPost, credsvc.CredentialsPath, "application/json", body)
}

// wantError checks the status and that the body is a JSON error containing
// part.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, part string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; body %s", w.Code, status, w.Body)
	}
	var e credsvc.ErrorBody
	body := w.Body.String()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || !strings.Contains(e.Error, part) {
		t.Fatalf("body %q (%v), want a JSON error containing %q", body, err, part)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func decodeCredential(t *testing.T, w *httptest.ResponseRecorder) credsvc.Credential {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var c credsvc.Credential
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCredentials(t *testing.T) {
	internet := []string{
		"turn:turn.example.com:3478?transport=udp",
		"turn:turn.example.com:443?transport=tcp",
		"turns:turn.example.com:5349?transport=tcp",
	}
	intranet := []string{"turn:10.1.2.3:3478?transport=udp", "turn:[fd00::3]:3478?transport=udp"}
	tests := []struct {
		name, contentType, body string
		ttl                     int64
		uris                    []string
		relays                  int
	}{
		{"defaults", "application/json", `{"identity":"alice"}`, 8 * 3600, internet, 1},
		{"internet", "application/json", `{"identity":"alice","location":"internet","ttl":"1h"}`, 3600, internet, 1},
		{"intranet", "application/json", `{"identity":"alice","location":"intranet","ttl":"2h"}`, 7200, intranet, 2},
		{"ttl capped", "application/json", `{"identity":"alice","ttl":"24h"}`, 8 * 3600, internet, 1},
		{"ttl rounded down to seconds", "application/json", `{"identity":"alice","ttl":"1m30.9s"}`, 90, internet, 1},
		{"charset parameter", "application/json; charset=utf-8", `{"identity":"alice"}`, 8 * 3600, internet, 1},
		{"unicode identity with colons", "application/json", `{"identity":"Zoë:room:1"}`, 8 * 3600, internet, 1},
		{"whitespace around the object", "application/json", " \n{\"identity\":\"alice\"}\n ", 8 * 3600, internet, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newHandlerEnv(t, nil)
			w := e.do(e.App, http.MethodPost, credsvc.CredentialsPath, tt.contentType, tt.body)
			c := decodeCredential(t, w)
			now := e.Clock.Now()
			expiry, identity, err := auth.ParseUsername(c.Username)
			var req credsvc.Request
			_ = json.Unmarshal([]byte(tt.body), &req)
			switch {
			case err != nil || identity != req.Identity:
				t.Errorf("username %q: identity %q, %v", c.Username, identity, err)
			case c.TTL != tt.ttl || expiry.Unix() != now.Unix()+tt.ttl:
				t.Errorf("ttl %d, expiry %v; want %d s after %v", c.TTL, expiry, tt.ttl, now)
			case c.ExpiresAt != expiry.UTC().Format(time.RFC3339):
				t.Errorf("expires_at %q, want %q", c.ExpiresAt, expiry.UTC().Format(time.RFC3339))
			case c.Password != auth.RESTPassword(credsvctest.SecretA.Value, c.Username):
				t.Error("password is not HMAC-SHA1(newest secret, username)")
			case c.Realm != credsvctest.Realm:
				t.Errorf("realm %q", c.Realm)
			case !slices.Equal(c.URIs, tt.uris):
				t.Errorf("uris %q, want %q", c.URIs, tt.uris)
			case len(c.Relays) != tt.relays:
				t.Errorf("relays %+v", c.Relays)
			}
			for _, r := range c.Relays {
				if want := cmpLocation(req.Location); r.Location != want {
					t.Errorf("relay %+v, want location %s", r, want)
				}
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			for _, line := range e.Log.Drain() {
				if strings.Contains(line, c.Password) || strings.Contains(line, string(credsvctest.SecretA.Value)) {
					t.Errorf("log line leaks a secret: %s", line)
				}
			}
		})
	}
}

func cmpLocation(l credsvc.Location) credsvc.Location {
	if l == "" {
		return credsvc.Internet
	}
	return l
}

func TestCredentialsRefusals(t *testing.T) {
	tests := []struct {
		name, method, path, contentType, body string
		status                                int
		part                                  string
	}{
		{"wrong method", http.MethodGet, credsvc.CredentialsPath, "", "", 405, "use POST"},
		{"PUT", http.MethodPut, credsvc.CredentialsPath, "application/json", `{"identity":"a"}`, 405, "use POST"},
		{"no content type", http.MethodPost, credsvc.CredentialsPath, "", `{"identity":"a"}`, 415, "application/json"},
		{"form content type", http.MethodPost, credsvc.CredentialsPath, "application/x-www-form-urlencoded", "identity=a", 415, "application/json"},
		{"bad content type", http.MethodPost, credsvc.CredentialsPath, "application/json; charset", `{"identity":"a"}`, 415, "application/json"},
		{"empty body", http.MethodPost, credsvc.CredentialsPath, "application/json", "", 400, "empty"},
		{"not JSON", http.MethodPost, credsvc.CredentialsPath, "application/json", "identity=alice", 400, "invalid JSON"},
		{"unknown field", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a","user":"b"}`, 400, `unknown field "user"`},
		{"two objects", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a"}{"identity":"b"}`, 400, "more than one JSON value"},
		{"trailing garbage", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a"} x`, 400, "invalid JSON"},
		{"array", http.MethodPost, credsvc.CredentialsPath, "application/json", `[{"identity":"a"}]`, 400, "invalid JSON"},
		{"null", http.MethodPost, credsvc.CredentialsPath, "application/json", `null`, 400, "identity"},
		{"no identity", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"ttl":"1h"}`, 400, "identity"},
		{"identity too long", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"` + strings.Repeat("x", 129) + `"}`, 400, "identity"},
		{"identity with newline", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"al\nice"}`, 400, "identity"},
		{"identity not a string", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":7}`, 400, "invalid JSON"},
		{"unknown location", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a","location":"dmz"}`, 400, "location"},
		{"ttl zero", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a","ttl":"0s"}`, 400, "ttl"},
		{"ttl negative", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a","ttl":"-1h"}`, 400, "ttl"},
		{"ttl below a second", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a","ttl":"500ms"}`, 400, "ttl"},
		{"ttl without unit", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a","ttl":"3600"}`, 400, "ttl"},
		{"ttl as a number", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a","ttl":3600}`, 400, "invalid JSON"},
		{"body too large", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a","ttl":"` + strings.Repeat(" ", 5000) + `"}`, 413, "larger than 4096 bytes"},
		{"invalid UTF-8", http.MethodPost, credsvc.CredentialsPath, "application/json", "{\"identity\":\"al\xffice\"}", 400, "not valid UTF-8"},
		{"duplicate key", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a","identity":"b"}`, 400, `duplicate key "identity"`},
		{"keys differing in case", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a","Identity":"b"}`, 400, `duplicate key "Identity"`},
		{"ttl twice in different case", http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a","location":"internet","ttl":"1h","TTL":"8h"}`, 400, `duplicate key "TTL"`},
		{"unknown path", http.MethodPost, "/v1/credential", "application/json", `{"identity":"a"}`, 404, "no such endpoint"},
		{"root", http.MethodGet, "/", "", "", 404, "no such endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newHandlerEnv(t, nil)
			w := e.do(e.App, tt.method, tt.path, tt.contentType, tt.body)
			wantError(t, w, tt.status, tt.part)
			if tt.status == 405 && w.Header().Get("Allow") != http.MethodPost {
				t.Errorf("Allow %q", w.Header().Get("Allow"))
			}
			e.Log.Wait(t, "request refused", "status="+strconv.Itoa(tt.status), "peer=192.0.2.1:40000", "client="+credsvctest.TrustedApp)
		})
	}
}

func TestTURNCredentials(t *testing.T) {
	tests := []struct {
		name, query string
		ttl         int64
		uris        int
	}{
		{"username only", "username=alice", 8 * 3600, 3},
		{"with ttl", "username=alice&ttl=3600", 3600, 3},
		{"ttl capped", "username=alice&ttl=86400", 8 * 3600, 3},
		{"service and key", "service=turn&username=alice&key=ignored&ttl=60", 60, 3},
		{"intranet", "username=alice&location=intranet", 8 * 3600, 2},
		{"escaped identity", "username=alice%40example.com", 8 * 3600, 3},
		{"ttl beyond 64 bits capped", "username=alice&ttl=99999999999999999999999", 8 * 3600, 3},
		{"ttl of 2^64-1 capped", "username=alice&ttl=18446744073709551615", 8 * 3600, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newHandlerEnv(t, nil)
			w := e.do(e.App, http.MethodGet, credsvc.TURNCredentialsPath+"?"+tt.query, "", "")
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(w.Body.Bytes(), &fields); err != nil {
				t.Fatal(err)
			}
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range fields {
					if !yield(k) {
						return
					}
				}
			})
			if !slices.Equal(keys, []string{"password", "ttl", "uris", "username"}) {
				t.Errorf("keys %q, want exactly the TURN REST API's", keys)
			}
			var c credsvc.RESTCredential
			if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil {
				t.Fatal(err)
			}
			expiry, _, err := auth.ParseUsername(c.Username)
			switch {
			case err != nil || c.TTL != tt.ttl || expiry.Unix() != e.Clock.Now().Unix()+tt.ttl:
				t.Errorf("username %q, ttl %d: want ttl %d", c.Username, c.TTL, tt.ttl)
			case c.Password != auth.RESTPassword(credsvctest.SecretA.Value, c.Username):
				t.Error("password is not HMAC-SHA1(newest secret, username)")
			case len(c.URIs) != tt.uris:
				t.Errorf("uris %q", c.URIs)
			}
		})
	}
}

func TestTURNCredentialsRefusals(t *testing.T) {
	tests := []struct {
		name, method, query string
		status              int
		part                string
	}{
		{"POST", http.MethodPost, "username=a", 405, "use GET"},
		{"no username", http.MethodGet, "ttl=60", 400, "username"},
		{"empty username", http.MethodGet, "username=", 400, "username"},
		{"username with control character", http.MethodGet, "username=a%00b", 400, "identity"},
		{"other service", http.MethodGet, "service=stun&username=a", 400, "service"},
		{"unknown parameter", http.MethodGet, "username=a&user=b", 400, `unknown parameter "user"`},
		{"repeated parameter", http.MethodGet, "username=a&username=b", 400, "more than once"},
		{"ttl with unit", http.MethodGet, "username=a&ttl=1h", 400, "ttl"},
		{"ttl zero", http.MethodGet, "username=a&ttl=0", 400, "ttl"},
		{"ttl negative", http.MethodGet, "username=a&ttl=-5", 400, "ttl"},
		{"bad escape", http.MethodGet, "username=%zz", 400, "query"},
		{"semicolon", http.MethodGet, "username=a;ttl=5", 400, "query"},
		{"unknown location", http.MethodGet, "username=a&location=mars", 400, "location"},
		{"ttl beyond 64 bits, negative", http.MethodGet, "username=a&ttl=-99999999999999999999999", 400, "ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newHandlerEnv(t, nil)
			w := e.do(e.App, tt.method, credsvc.TURNCredentialsPath+"?"+tt.query, "", "")
			wantError(t, w, tt.status, tt.part)
			if tt.status == 405 && w.Header().Get("Allow") != http.MethodGet {
				t.Errorf("Allow %q", w.Header().Get("Allow"))
			}
		})
	}
}

func TestAuthorization(t *testing.T) {
	e := newHandlerEnv(t, nil)
	p := e.PKI
	tests := []struct {
		name string
		cert *x509.Certificate
		ok   bool
		part string
	}{
		{"no certificate", nil, false, "no verified client certificate"},
		{"trusted DNS name", p.Client(credsvctest.TrustedApp).Leaf, true, ""},
		{"trusted name in capitals", p.Client("APP.Example.COM").Leaf, true, ""},
		{"one of several names trusted", p.Client("other.example.com", credsvctest.TrustedApp).Leaf, true, ""},
		{"untrusted name", p.Client("evil.example.com").Leaf, false, `"evil.example.com" is not on the trusted client list`},
		{"suffix of a trusted name", p.Client("example.com").Leaf, false, "not on the trusted client list"},
		{"trusted name as a subdomain", p.Client("x." + credsvctest.TrustedApp).Leaf, false, "not on the trusted client list"},
		{"common name without SAN", p.Issue(pki.ClientAuth, credsvctest.TrustedApp, nil, time.Hour).Leaf, true, ""},
		{"common name ignored with an IP SAN", p.Issue(pki.ClientAuth, credsvctest.TrustedApp, []string{"192.0.2.7"}, time.Hour).Leaf, false, "carries no DNS name"},
		{"common name ignored with a DNS SAN", p.Issue(pki.ClientAuth, credsvctest.TrustedApp, []string{"other.example.com"}, time.Hour).Leaf, false, "not on the trusted client list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Refusals of one IP are logged once a minute.
			e.Clock.Advance(credsvc.RefusalLogWindow)
			w := e.do(tt.cert, http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"alice"}`)
			if tt.ok {
				decodeCredential(t, w)
				return
			}
			wantError(t, w, http.StatusForbidden, tt.part)
			e.Log.Wait(t, "request refused", "status=403", "peer=192.0.2.1:40000", tt.part)
		})
	}
}

func TestAuthorizationExpiredOnKeptAliveConnection(t *testing.T) {
	e := newHandlerEnv(t, nil)
	cert := e.PKI.Issue(pki.ClientAuth, "", []string{credsvctest.TrustedApp}, 2*time.Hour).Leaf
	decodeCredential(t, e.do(cert, http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a"}`))
	e.Clock.Advance(2*time.Hour + time.Second)
	w := e.do(cert, http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a"}`)
	wantError(t, w, http.StatusForbidden, "outside its validity period")
}

func TestSetTrusted(t *testing.T) {
	e := newHandlerEnv(t, nil)
	other := e.PKI.Client("synapse.example.com").Leaf
	decodeCredential(t, e.post(`{"identity":"a"}`))
	wantError(t, e.do(other, http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a"}`), 403, "not on the trusted")
	if err := e.Handler.SetTrusted([]string{"Synapse.example.com"}); err != nil {
		t.Fatal(err)
	}
	decodeCredential(t, e.do(other, http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a"}`))
	wantError(t, e.post(`{"identity":"a"}`), 403, "not on the trusted")
	if err := e.Handler.SetTrusted(nil); !errors.Is(err, credsvc.ErrBadOptions) {
		t.Errorf("SetTrusted(nil) = %v, want ErrBadOptions", err)
	}
}

func TestRateLimit(t *testing.T) {
	e := newHandlerEnv(t, func(o *credsvc.Options) {
		o.Rate = credsvc.Rate{PerSecond: 0.5, Burst: 3}
		o.Trusted = append(o.Trusted, "synapse.example.com")
	})
	other := e.PKI.Client("synapse.example.com").Leaf
	for i := range 3 {
		if w := e.post(`{"identity":"a"}`); w.Code != http.StatusOK {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
	w := e.post(`{"identity":"a"}`)
	wantError(t, w, http.StatusTooManyRequests, "rate limit")
	if ra := w.Header().Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After %q, want 2 (one token at 0.5/s)", ra)
	}
	if c := w.Header().Get("Connection"); c != "close" {
		t.Errorf("Connection %q on 429, want close", c)
	}
	e.Log.Wait(t, "request refused", "status=429", "client="+credsvctest.TrustedApp)
	// Every request costs a token, also refused ones.
	wantError(t, e.do(e.App, http.MethodGet, "/nowhere", "", ""), http.StatusTooManyRequests, "rate limit")
	// Other clients have their own bucket.
	decodeCredential(t, e.do(other, http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a"}`))
	e.Clock.Advance(1999 * time.Millisecond)
	wantError(t, e.post(`{"identity":"a"}`), http.StatusTooManyRequests, "rate limit")
	e.Clock.Advance(time.Millisecond)
	decodeCredential(t, e.post(`{"identity":"a"}`))
	wantError(t, e.post(`{"identity":"a"}`), http.StatusTooManyRequests, "rate limit")
	// Untrusted clients are refused before they reach a bucket.
	stranger := e.PKI.Client("stranger.example.com").Leaf
	for range 5 {
		wantError(t, e.do(stranger, http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a"}`), 403, "trusted")
	}
	if n := e.Handler.LimiterSize(); n != 2 {
		t.Errorf("limiter holds %d buckets, want 2", n)
	}
}

func TestNewHandlerOptions(t *testing.T) {
	keyring, err := auth.NewKeyring([]auth.Secret{credsvctest.SecretA})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mod  func(*credsvc.Options)
	}{
		{"no keyring", func(o *credsvc.Options) { o.Keyring = nil }},
		{"no realm", func(o *credsvc.Options) { o.Realm = "" }},
		{"no max ttl", func(o *credsvc.Options) { o.MaxTTL = 0 }},
		{"no trusted clients", func(o *credsvc.Options) { o.Trusted = nil }},
		{"no rate", func(o *credsvc.Options) { o.Rate = credsvc.Rate{} }},
		{"zero burst", func(o *credsvc.Options) { o.Rate.Burst = 0 }},
		{"negative max clients", func(o *credsvc.Options) { o.MaxClients = -1 }},
		{"relay without port", func(o *credsvc.Options) { o.Relays = []credsvc.Relay{{Host: "h", Location: credsvc.Internet}} }},
		{"relay without location", func(o *credsvc.Options) { o.Relays = []credsvc.Relay{{Host: "h", UDPPort: 1}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := credsvctest.HandlerOptions(nil, keyring, nil)
			tt.mod(&opts)
			if _, err := credsvc.NewHandler(opts); !errors.Is(err, credsvc.ErrBadOptions) {
				t.Errorf("NewHandler = %v, want ErrBadOptions", err)
			}
		})
	}
}

func TestNoRelaysForLocation(t *testing.T) {
	e := newHandlerEnv(t, func(o *credsvc.Options) { o.Relays = credsvctest.Relays[:1] })
	wantError(t, e.post(`{"identity":"a","location":"intranet"}`), 400, "intranet has no relay addresses")
}

// TestSignRefusal: the request's faults (identity, location) are not the
// service's; any other signing error is, and its reason carries it.
func TestSignRefusal(t *testing.T) {
	for _, tt := range []struct {
		err      error
		reason   string
		internal bool
	}{
		{fmt.Errorf("issue: %w", auth.ErrBadIdentity), "identity: must be", false},
		{credsvc.ErrNoRelays, "location: intranet has no relay addresses", false},
		{errors.New("keyring broken"), "cannot sign a credential: keyring broken", true},
	} {
		reason, internal := credsvc.SignRefusal(tt.err, credsvc.Intranet)
		if !strings.HasPrefix(reason, tt.reason) || internal != tt.internal {
			t.Errorf("SignRefusal(%v) = %q, %v; want %q…, %v", tt.err, reason, internal, tt.reason, tt.internal)
		}
	}
}

func TestNewestSecretSigns(t *testing.T) {
	e := newHandlerEnv(t, nil)
	if err := e.Keyring.Set([]auth.Secret{credsvctest.SecretB, credsvctest.SecretA}); err != nil {
		t.Fatal(err)
	}
	c := decodeCredential(t, e.post(`{"identity":"a"}`))
	if c.Password != auth.RESTPassword(credsvctest.SecretB.Value, c.Username) {
		t.Error("credential not signed with the newest secret")
	}
	e.Log.Wait(t, "credential issued", "secret_id=b", "identity=a", "client="+credsvctest.TrustedApp)
}

// TestTTLRoundedDown: the answer's ttl is the whole seconds left until the
// expiry, which is rounded down to a whole second, and at least 1.
func TestTTLRoundedDown(t *testing.T) {
	tests := []struct {
		ttl  string
		want int64
	}{
		{"1h", 3599},
		{"2s", 1},
		{"1s", 1},
	}
	for _, tt := range tests {
		t.Run(tt.ttl, func(t *testing.T) {
			e := newHandlerEnv(t, nil)
			e.Clock.Advance(700 * time.Millisecond)
			c := decodeCredential(t, e.post(`{"identity":"a","ttl":"`+tt.ttl+`"}`))
			d, _ := time.ParseDuration(tt.ttl)
			expiry, _, err := auth.ParseUsername(c.Username)
			if err != nil || c.TTL != tt.want || expiry.Unix() != e.Clock.Now().Add(d).Unix() {
				t.Errorf("ttl %d, username %q (%v); want ttl %d", c.TTL, c.Username, err, tt.want)
			}
		})
	}
}

// TestRefusalLogBurst: a burst of refused requests from one IP logs one
// line a minute; the next line counts the refusals left out.
func TestRefusalLogBurst(t *testing.T) {
	e := newHandlerEnv(t, nil)
	stranger := e.PKI.Client("stranger.example.com").Leaf
	for range 100 {
		wantError(t, e.do(stranger, http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a"}`), 403, "trusted")
	}
	if lines := e.Log.Drain(); len(lines) != 1 || !strings.Contains(lines[0], "suppressed=0") {
		t.Fatalf("100 refusals logged %d lines, want 1:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	e.Clock.Advance(credsvc.RefusalLogWindow - time.Millisecond)
	wantError(t, e.do(stranger, http.MethodGet, "/", "", ""), 403, "trusted")
	if lines := e.Log.Drain(); len(lines) != 0 {
		t.Fatalf("logged within the minute: %q", lines)
	}
	e.Clock.Advance(time.Millisecond)
	wantError(t, e.do(stranger, http.MethodGet, "/", "", ""), 403, "trusted")
	if lines := e.Log.Drain(); len(lines) != 1 || !strings.Contains(lines[0], "suppressed=100") {
		t.Fatalf("after a minute: %q, want one line with suppressed=100", lines)
	}
}
