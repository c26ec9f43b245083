package admin

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/sessions"
	"github.com/avedge/avedge/internal/sessions/sessionstest"
)

// raw is a request of the guard tests: its headers, Host and
// Authorization included, are exactly these (none when empty).
type raw struct {
	method, path string
	host         string // "" for the listener's address
	headers      map[string][]string
	body         string
}

// send sends r to the server at addr and returns the status, headers and
// body of the answer.
func (r raw) send(t *testing.T, addr netip.AddrPort) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(r.method, "http://"+addr.String()+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.host != "" {
		req.Host = r.host
	}
	for k, vs := range r.headers {
		req.Header[k] = vs
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// bearer is an Authorization header with token.
func bearer(token string) map[string][]string {
	return map[string][]string{"Authorization": {"Bearer " + token}}
}

// TestDrainCSRF: a cross-site POST /drain as a browser sends it (a
// text/plain body, an Origin header, the attacker's host name, no token)
// is refused and does not drain; so is each of its traits alone, with
// everything else right; only a request with the token, the listener's
// address as Host and no Origin drains.
func TestDrainCSRF(t *testing.T) {
	var calls atomic.Int32
	var logs logBuffer
	s, _ := start(t, Options{Drain: func() { calls.Add(1) }, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	s.SetReady(true)
	addr := s.Addr()
	good := func(extra map[string][]string) map[string][]string {
		h := bearer(testToken)
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	for _, tc := range []struct {
		name string
		req  raw
		code int
		msg  string
	}{
		{"cross-site form post", raw{method: "POST", path: "/drain", host: "attacker.example", body: "x=1", headers: map[string][]string{
			"Origin": {"https://attacker.example"}, "Content-Type": {"text/plain"},
		}}, 403, msgOrigin},
		{"DNS rebinding, no Origin", raw{method: "POST", path: "/drain", host: fmt.Sprintf("attacker.example:%d", addr.Port())}, 421, msgHost},
		{"Origin, with the token", raw{method: "POST", path: "/drain", headers: good(map[string][]string{"Origin": {"null"}})}, 403, msgOrigin},
		{"empty Origin, with the token", raw{method: "POST", path: "/drain", headers: good(map[string][]string{"Origin": {""}})}, 403, msgOrigin},
		{"foreign host name, with the token", raw{method: "POST", path: "/drain", host: fmt.Sprintf("admin.example:%d", addr.Port()), headers: good(nil)}, 421, msgHost},
		{"another port, with the token", raw{method: "POST", path: "/drain", host: fmt.Sprintf("127.0.0.1:%d", addr.Port()+1), headers: good(nil)}, 421, msgHost},
		{"another address, with the token", raw{method: "POST", path: "/drain", host: fmt.Sprintf("10.0.0.1:%d", addr.Port()), headers: good(nil)}, 421, msgHost},
		{"no token", raw{method: "POST", path: "/drain"}, 401, msgBadToken},
		{"wrong token", raw{method: "POST", path: "/drain", headers: bearer("test-admin-token-0123456789abcdeF")}, 401, msgBadToken},
		{"longer token", raw{method: "POST", path: "/drain", headers: bearer(testToken + "0")}, 401, msgBadToken},
		{"token prefix", raw{method: "POST", path: "/drain", headers: bearer(testToken[:16])}, 401, msgBadToken},
		{"empty token", raw{method: "POST", path: "/drain", headers: bearer("")}, 401, msgBadToken},
		{"basic scheme", raw{method: "POST", path: "/drain", headers: map[string][]string{"Authorization": {"Basic " + testToken}}}, 401, msgBadToken},
		{"token without a scheme", raw{method: "POST", path: "/drain", headers: map[string][]string{"Authorization": {testToken}}}, 401, msgBadToken},
		{"two Authorization headers", raw{method: "POST", path: "/drain", headers: map[string][]string{"Authorization": {"Bearer " + testToken, "Bearer " + testToken}}}, 401, msgBadToken},
		{"token in the query", raw{method: "POST", path: "/drain?access_token=" + testToken}, 401, msgBadToken},
		{"GET, no token", raw{method: "GET", path: "/drain"}, 401, msgBadToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, h, body := tc.req.send(t, addr)
			if code != tc.code || body != tc.msg+"\n" || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
				t.Errorf("%d %q (%s), want %d %q", code, body, h.Get("Content-Type"), tc.code, tc.msg)
			}
			if wa := h.Get("WWW-Authenticate"); (code == 401) != (wa == `Bearer realm="avedge admin"`) {
				t.Errorf("WWW-Authenticate %q with %d", wa, code)
			}
			if n := calls.Load(); n != 0 {
				t.Fatalf("drain called %d times", n)
			}
			if code, _, _ := do(t, "GET", "http://"+addr.String()+"/readyz"); code != 200 {
				t.Fatalf("readyz %d after a refused drain, want 200", code)
			}
		})
	}
	if l := logs.String(); !strings.Contains(l, "reason=origin") || !strings.Contains(l, "reason=host") || strings.Contains(l, testToken[:16]) {
		t.Errorf("the refusals are not logged with their reasons, or the log shows a token: %s", l)
	}

	for _, host := range []string{"", fmt.Sprintf("localhost:%d", addr.Port()), fmt.Sprintf("LocalHost:%d", addr.Port()), fmt.Sprintf("[::ffff:127.0.0.1]:%d", addr.Port())} {
		before := calls.Load()
		r := raw{method: "POST", path: "/drain", host: host, headers: bearer(testToken)}
		if code, _, body := r.send(t, addr); code != 202 || body != "draining\n" || calls.Load() != before+1 {
			t.Errorf("POST /drain with the token, Host %q: %d %q, calls %d", host, code, body, calls.Load()-before)
		}
	}
	lower := raw{method: "POST", path: "/drain", headers: map[string][]string{"Authorization": {"bearer   " + testToken}}}
	if code, _, _ := lower.send(t, addr); code != 202 {
		t.Errorf("POST /drain with a lower-case scheme and more spaces: %d, want 202", code)
	}
}

// TestSessionControlGuard: the session paths refuse the same requests, in
// JSON, and call no Controller method.
func TestSessionControlGuard(t *testing.T) {
	c := &sessionstest.Controller{At: revokedAt, Live: []sessions.Session{fullSession("s1", "alice", "alice")}}
	s, _, _ := startControl(t, c)
	addr := s.Addr()
	for _, tc := range []struct {
		name string
		req  raw
		code int
		msg  string
	}{
		{"Origin", raw{headers: map[string][]string{"Authorization": {"Bearer " + testToken}, "Origin": {"https://attacker.example"}}}, 403, msgOrigin},
		{"foreign host", raw{host: "attacker.example", headers: bearer(testToken)}, 421, msgHost},
		{"no token", raw{}, 401, msgBadToken},
		{"wrong token", raw{headers: bearer("wrong-admin-token-0123456789abcdef")}, 401, msgBadToken},
	} {
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/sessions", ""}, {"DELETE", "/sessions/s1", ""}, {"GET", "/revocations", ""},
			{"POST", "/revocations", `{"identity":"alice"}`}, {"DELETE", "/revocations/alice", ""},
		} {
			req := tc.req
			req.method, req.path, req.body = r.method, r.path, r.body
			code, h, body := req.send(t, addr)
			wantError(t, tc.name+": "+r.method+" "+r.path, code, h, body, tc.code, tc.msg)
		}
	}
	if len(c.Live) != 1 || len(c.Revs) != 0 {
		t.Errorf("a refused request changed the sessions %v or revocations %v", c.Live, c.Revs)
	}
}

// TestNoTokenConfigured: without Options.Token the control paths answer
// 403 to every request, whatever Authorization it holds; the open paths
// answer.
func TestNoTokenConfigured(t *testing.T) {
	var calls atomic.Int32
	s, _ := start(t, Options{Token: []byte{}, Drain: func() { calls.Add(1) }, Sessions: &sessionstest.Controller{At: revokedAt}})
	s.SetReady(true)
	for _, auth := range []map[string][]string{nil, bearer(""), bearer(testToken)} {
		for _, r := range []struct {
			method, path string
			json         bool
		}{{"POST", "/drain", false}, {"GET", "/sessions", true}, {"GET", "/revocations", true}} {
			code, h, body := raw{method: r.method, path: r.path, headers: auth}.send(t, s.Addr())
			if r.json {
				wantError(t, r.method+" "+r.path, code, h, body, 403, msgNoToken)
			} else if code != 403 || body != msgNoToken+"\n" {
				t.Errorf("%s %s with %q: %d %q, want 403", r.method, r.path, auth, code, body)
			}
		}
	}
	if calls.Load() != 0 {
		t.Error("drain called without a token configured")
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, _, _ := (raw{method: "GET", path: p}).send(t, s.Addr()); code != 200 {
			t.Errorf("GET %s: %d, want 200", p, code)
		}
	}
}

// TestOpenPathsAnswerAnyone: /healthz, /readyz and /metrics need no token
// and answer a probe or scraper that names the listener by a host name.
func TestOpenPathsAnswerAnyone(t *testing.T) {
	s, _ := start(t, Options{})
	s.SetReady(true)
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		r := raw{method: "GET", path: p, host: "edge1.internal.example"}
		if code, _, _ := r.send(t, s.Addr()); code != 200 {
			t.Errorf("GET %s by host name, without a token: %d, want 200", p, code)
		}
	}
}

func TestHostNames(t *testing.T) {
	v4 := netip.MustParseAddrPort("10.1.2.3:9090")
	lo := netip.MustParseAddrPort("127.0.0.1:9090")
	lo6 := netip.MustParseAddrPort("[::1]:9090")
	any4 := netip.MustParseAddrPort("0.0.0.0:9090")
	any6 := netip.MustParseAddrPort("[::]:9090")
	http80 := netip.MustParseAddrPort("10.1.2.3:80")
	for _, tc := range []struct {
		host string
		addr netip.AddrPort
		want bool
	}{
		{"10.1.2.3:9090", v4, true},
		{"[::ffff:10.1.2.3]:9090", v4, true},
		{"10.1.2.4:9090", v4, false},
		{"10.1.2.3:9091", v4, false},
		{"10.1.2.3", v4, false},
		{"localhost:9090", v4, false},
		{"admin.example:9090", v4, false},
		{"", v4, false},
		{"10.1.2.3", http80, true},
		{"10.1.2.3:80", http80, true},
		{"127.0.0.1:9090", lo, true},
		{"localhost:9090", lo, true},
		{"localhost.:9090", lo, false},
		{"localhost", lo, false},
		{"[::1]:9090", lo6, true},
		{"localhost:9090", lo6, true},
		{"[::1%lo]:9090", lo6, false},
		{"127.0.0.1:9090", lo6, false},
		{"10.9.9.9:9090", any4, true},
		{"[2001:db8::1]:9090", any6, true},
		{"localhost:9090", any6, true},
		{"attacker.example:9090", any4, false},
		{"10.9.9.9:9091", any4, false},
		{"[::1]", lo6, false},
	} {
		if got := hostNames(tc.host, tc.addr); got != tc.want {
			t.Errorf("hostNames(%q, %v) = %v, want %v", tc.host, tc.addr, got, tc.want)
		}
	}
}
