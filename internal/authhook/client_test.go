package authhook

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
)

var q = auth.HookQuery{Username: "alice", Realm: "example.org", Client: netip.MustParseAddrPort("192.0.2.1:5000"), Transport: "udp"}

// await calls Credential until it answers (at most two calls: the one that
// starts the lookup, then the one after it ended).
func await(t *testing.T, c *Client, q auth.HookQuery) (auth.Credential, error) {
	t.Helper()
	cred, err := c.Credential(q)
	var p *auth.Pending
	if !errors.As(err, &p) {
		return cred, err
	}
	select {
	case <-p.Done:
	case <-time.After(15 * time.Second):
		t.Fatal("lookup never ended")
	}
	cred, err = c.Credential(q)
	if errors.Is(err, auth.ErrPending) {
		t.Fatal("still pending after Done")
	}
	return cred, err
}

func newClient(t *testing.T, s *service, opts Options) *Client {
	t.Helper()
	opts.URL = s.URL
	if opts.TLS == nil {
		opts.TLS = s.tls
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestAllowedWithTokenAndMTLS(t *testing.T) {
	var got query
	var calls atomic.Int32
	s := newService(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer s3cret-token" ||
			len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != "edge" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(`{"password":"wonderland"}`))
	}), true)
	c := newClient(t, s, Options{Token: []byte("s3cret-token")})
	cred, err := await(t, c, q)
	if err != nil || cred.Password != "wonderland" {
		t.Fatalf("Credential = %+v, %v; want password", cred, err)
	}
	if want := (query{Username: "alice", Realm: "example.org", Client: "192.0.2.1:5000", Transport: "udp"}); got != want {
		t.Errorf("service got %+v, want %+v", got, want)
	}
	// Cached: no second request.
	if cred, err := c.Credential(q); err != nil || cred.Password != "wonderland" {
		t.Fatalf("cached Credential = %+v, %v", cred, err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("service called %d times, want 1", n)
	}
	st := c.Stats()
	if st.Outcomes[Allowed] != 1 || st.Outcomes[CachedAllowed] != 2 || st.Latency.Count != 1 || st.Latency.Buckets[10] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestHA1(t *testing.T) {
	s := newService(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"ha1":"0x00112233445566778899aabbccddeeff"}`))
	}), false)
	c := newClient(t, s, Options{})
	cred, err := await(t, c, q)
	if err != nil || len(cred.HA1) != 16 || cred.HA1[15] != 0xff || cred.Password != "" {
		t.Fatalf("Credential = %+v, %v", cred, err)
	}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		outcome Outcome
	}{
		{"403", http.StatusForbidden, "", Refused},
		{"404", http.StatusNotFound, "", Refused},
		{"500", http.StatusInternalServerError, "", Error},
		{"401", http.StatusUnauthorized, "", Error},
		{"redirect", http.StatusFound, "", Error},
		{"not json", http.StatusOK, "password=x", Error},
		{"empty object", http.StatusOK, "{}", Error},
		{"both", http.StatusOK, `{"password":"a","ha1":"00112233445566778899aabbccddeeff"}`, Error},
		{"short ha1", http.StatusOK, `{"ha1":"0011"}`, Error},
		{"too long", http.StatusOK, `{"password":"` + string(make([]byte, MaxBodySize)) + `"}`, Error},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newService(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.status == http.StatusFound {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}), false)
			clk := clock.NewFake(time.Unix(1_700_000_000, 0))
			c := newClient(t, s, Options{Clock: clk, NegativeCache: 10 * time.Second})
			_, err := await(t, c, q)
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("err = %v, want ErrRefused", err)
			}
			if got := c.Stats().Outcomes[tc.outcome]; got != 1 {
				t.Errorf("outcome %s counted %d times, want 1 (%+v)", tc.outcome, got, c.Stats().Outcomes)
			}
			// Negative cache: refused without asking, until it expires.
			clk.Advance(9 * time.Second)
			if _, err := c.Credential(q); !errors.Is(err, ErrRefused) {
				t.Fatalf("within the negative cache: %v", err)
			}
			clk.Advance(time.Second)
			if _, err := c.Credential(q); !errors.Is(err, auth.ErrPending) {
				t.Fatalf("after the negative cache: %v, want a new lookup", err)
			}
		})
	}
}

func TestSlowTimesOut(t *testing.T) {
	release := make(chan struct{})
	s := newService(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}), false)
	defer close(release)
	c := newClient(t, s, Options{Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := await(t, c, q)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("err = %v, want ErrFailed", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v with a 200ms timeout", took)
	}
	if got := c.Stats().Outcomes[Timeout]; got != 1 {
		t.Errorf("timeouts = %d, want 1", got)
	}
}

func TestDown(t *testing.T) {
	s := newService(t, http.NotFoundHandler(), false)
	s.Close()
	c := newClient(t, s, Options{})
	if _, err := await(t, c, q); !errors.Is(err, ErrFailed) {
		t.Fatalf("err = %v, want ErrFailed", err)
	}
	if got := c.Stats().Outcomes[Error]; got != 1 {
		t.Errorf("errors = %d, want 1", got)
	}
}

func TestOneLookupPerUsernameAndOverload(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	s := newService(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		<-release
		_, _ = w.Write([]byte(`{"password":"p"}`))
	}), false)
	c := newClient(t, s, Options{MaxInflight: 2})
	var dones []<-chan struct{}
	for _, u := range []string{"a", "a", "b"} {
		_, err := c.Credential(auth.HookQuery{Username: u})
		var p *auth.Pending
		if !errors.As(err, &p) {
			t.Fatalf("%s: %v, want pending", u, err)
		}
		dones = append(dones, p.Done)
	}
	if dones[0] != dones[1] {
		t.Error("two lookups of one username")
	}
	if _, err := c.Credential(auth.HookQuery{Username: "c"}); !errors.Is(err, ErrOverloaded) || !errors.Is(err, ErrRefused) {
		t.Fatalf("third username: %v, want ErrOverloaded", err)
	}
	close(release)
	for _, d := range dones {
		<-d
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("service called %d times, want 2", n)
	}
	if st := c.Stats(); st.Outcomes[Overloaded] != 1 || st.Outcomes[Allowed] != 2 {
		t.Errorf("outcomes %v", st.Outcomes)
	}
}

func TestCacheBounded(t *testing.T) {
	s := newService(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"password":"p"}`))
	}), false)
	c := newClient(t, s, Options{MaxCacheEntries: 2})
	for _, u := range []string{"a", "b", "c"} {
		if _, err := await(t, c, auth.HookQuery{Username: u}); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Lock()
	n := len(c.cache)
	c.mu.Unlock()
	if n != 2 {
		t.Errorf("cache holds %d entries, want 2", n)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, u := range []string{"http://192.0.2.1/auth", "ftp://x/", "https://user:pw@x/", "://"} {
		if _, err := New(Options{URL: u}); !errors.Is(err, ErrBadOptions) {
			t.Errorf("New(%q) = %v, want ErrBadOptions", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080/auth", "http://[::1]/", "http://localhost/", "https://auth.example.com/"} {
		c, err := New(Options{URL: u})
		if err != nil {
			t.Errorf("New(%q) = %v", u, err)
			continue
		}
		c.Close()
	}
	if _, err := New(Options{URL: "https://x/", Timeout: 11 * time.Second}); !errors.Is(err, ErrBadOptions) {
		t.Error("timeout above the maximum accepted")
	}
}

func TestClosedRefuses(t *testing.T) {
	c, err := New(Options{URL: "https://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := c.Credential(q); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
