package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/sessions"
	"github.com/avedge/avedge/internal/sessions/sessionstest"
)

// revokedAt is the time of the revocations the tests' Controllers make.
var revokedAt = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// fullSession returns a session with every field set.
func fullSession(id, user, identity string) sessions.Session {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	return sessions.Session{
		ID:            id,
		User:          user,
		Identity:      identity,
		Dialect:       "rfc",
		Transport:     "udp",
		RelayProtocol: "udp",
		Client:        netip.MustParseAddrPort("192.0.2.10:40000"),
		Relayed:       []netip.AddrPort{netip.MustParseAddrPort("198.51.100.1:50000"), netip.MustParseAddrPort("[2001:db8::1]:50000")},
		Peers: []sessions.Peer{{
			Address:  netip.MustParseAddr("203.0.113.5"),
			Expires:  t0.Add(5 * time.Minute),
			Channels: []sessions.Channel{{Number: 0x4000, Peer: netip.MustParseAddrPort("203.0.113.5:6000")}},
		}},
		Start:           t0,
		Expires:         t0.Add(10 * time.Minute),
		ToPeerPackets:   1,
		ToPeerBytes:     2,
		ToClientPackets: 3,
		ToClientBytes:   4,
		BandwidthCap:    5,
	}
}

// logBuffer collects a logger's text output; it is safe for concurrent
// use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startControl runs a Server with c as its Controller, logging into the
// returned buffer.
func startControl(t *testing.T, c sessions.Controller) (*Server, string, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	s, base := start(t, Options{Sessions: c, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	return s, base, logs
}

// send sends one request with testToken and a body of the content type
// ct (none when empty) and returns the status, headers and body.
func send(t *testing.T, method, rawURL, ct, body string) (int, http.Header, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	h := bearer(testToken)
	if ct != "" {
		h["Content-Type"] = []string{ct}
	}
	return raw{method: method, path: u.RequestURI(), headers: h, body: body}.send(t, netip.MustParseAddrPort(u.Host))
}

// wantJSON checks that an answer is JSON, not to be cached, with status
// code, and decodes it into v.
func wantJSON(t *testing.T, what string, code int, h http.Header, body string, wantCode int, v any) {
	t.Helper()
	if code != wantCode {
		t.Fatalf("%s: status %d, want %d (body %q)", what, code, wantCode, body)
	}
	if ct, cc := h.Get("Content-Type"), h.Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
		t.Fatalf("%s: Content-Type %q, Cache-Control %q, want application/json, no-store", what, ct, cc)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v in %q", what, err, body)
	}
}

// wantError checks that an answer is a JSON error with status wantCode
// whose message holds msg.
func wantError(t *testing.T, what string, code int, h http.Header, body string, wantCode int, msg string) {
	t.Helper()
	var e errorBody
	wantJSON(t, what, code, h, body, wantCode, &e)
	if e.Error == "" || !strings.Contains(e.Error, msg) {
		t.Fatalf("%s: error %q, want one holding %q", what, e.Error, msg)
	}
}

func TestListSessions(t *testing.T) {
	a, b := fullSession("s1", "1900000000:alice", "alice"), fullSession("s2", "bob", "bob")
	c := &sessionstest.Controller{At: revokedAt, Live: []sessions.Session{a, b}}
	_, base, _ := startControl(t, c)
	for _, tc := range []struct {
		query  string
		filter sessions.Filter
		want   []sessions.Session
	}{
		{"", sessions.Filter{}, []sessions.Session{a, b}},
		{"?identity=alice", sessions.Filter{Identity: "alice"}, []sessions.Session{a}},
		{"?user=bob", sessions.Filter{User: "bob"}, []sessions.Session{b}},
		{"?user=" + url.QueryEscape("1900000000:alice") + "&identity=alice", sessions.Filter{User: "1900000000:alice", Identity: "alice"}, []sessions.Session{a}},
		{"?identity=carol", sessions.Filter{Identity: "carol"}, []sessions.Session{}},
	} {
		code, h, body := send(t, "GET", base+"/sessions"+tc.query, "", "")
		var got struct {
			Sessions []sessions.Session `json:"sessions"`
		}
		wantJSON(t, "GET /sessions"+tc.query, code, h, body, 200, &got)
		if !reflect.DeepEqual(got.Sessions, tc.want) {
			t.Errorf("GET /sessions%s: %+v, want %+v", tc.query, got.Sessions, tc.want)
		}
		if _, _, filters := c.State(); filters[len(filters)-1] != tc.filter {
			f := filters[len(filters)-1]
			t.Errorf("GET /sessions%s: filter %+v, want %+v", tc.query, f, tc.filter)
		}
		if len(tc.want) == 0 && body != "{\"sessions\":[]}\n" {
			t.Errorf("empty list: %q, want an empty array", body)
		}
	}
}

// TestSessionJSONHasNoSecrets marshals a session with every field set and
// looks for a key naming a password, key or secret.
func TestSessionJSONHasNoSecrets(t *testing.T) {
	_, base, _ := startControl(t, &sessionstest.Controller{At: revokedAt, Live: []sessions.Session{fullSession("s1", "alice", "alice")}})
	_, _, body := send(t, "GET", base+"/sessions", "", "")
	direct, err := json.Marshal(fullSession("s1", "alice", "alice"))
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{body, string(direct)} {
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			t.Fatal(err)
		}
		var keys []string
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, e := range v {
					keys = append(keys, k)
					walk(e)
				}
			case []any:
				for _, e := range v {
					walk(e)
				}
			}
		}
		walk(v)
		if len(keys) < 20 {
			t.Fatalf("only %d keys in %s: not a full session", len(keys), text)
		}
		for _, k := range keys {
			for _, bad := range []string{"password", "key", "secret"} {
				if strings.Contains(strings.ToLower(k), bad) {
					t.Errorf("key %q in the session JSON", k)
				}
			}
		}
	}
}

func TestEndSession(t *testing.T) {
	c := &sessionstest.Controller{At: revokedAt, Live: []sessions.Session{fullSession("s1", "alice", "alice"), fullSession("s2", "bob", "bob")}}
	_, base, logs := startControl(t, c)
	code, h, body := send(t, "DELETE", base+"/sessions/s1", "", "")
	var ended struct {
		Ended string `json:"ended"`
	}
	wantJSON(t, "DELETE /sessions/s1", code, h, body, 200, &ended)
	if live, _, _ := c.State(); ended.Ended != "s1" || len(live) != 1 || live[0].ID != "s2" {
		t.Fatalf("DELETE /sessions/s1: %+v, live %+v", ended, live)
	}
	if l := logs.String(); !strings.Contains(l, `msg="session ended on the admin endpoint" remote=127.0.0.1:`) || !strings.Contains(l, "id=s1") {
		t.Errorf("log %q lacks the end with its remote address and ID", l)
	}
	code, h, body = send(t, "DELETE", base+"/sessions/s1", "", "")
	wantError(t, "DELETE /sessions/s1 again", code, h, body, 404, `no live session "s1"`)
}

func TestRevocations(t *testing.T) {
	const who = "tenant/alice@example.com:1"
	c := &sessionstest.Controller{At: revokedAt, Live: []sessions.Session{fullSession("s1", "u1", who), fullSession("s2", "u2", who), fullSession("s3", "bob", "bob")}}
	_, base, logs := startControl(t, c)
	until := time.Date(2099, 1, 2, 3, 4, 5, 0, time.UTC)

	code, h, body := send(t, "POST", base+"/revocations", "application/json", `{"identity":"`+who+`","until":"2099-01-02T03:04:05Z"}`)
	var revoked struct {
		Revocation sessions.Revocation `json:"revocation"`
		Ended      int                 `json:"ended_sessions"`
	}
	wantJSON(t, "POST /revocations", code, h, body, 200, &revoked)
	want := sessions.Revocation{Identity: who, At: revokedAt, Until: until}
	if revoked.Revocation != want || revoked.Ended != 2 {
		t.Fatalf("POST /revocations: %+v, want %+v and 2 sessions ended", revoked, want)
	}
	code, h, body = send(t, "POST", base+"/revocations", "application/json; charset=utf-8", `{"identity":"bob"}`)
	revoked.Revocation = sessions.Revocation{}
	wantJSON(t, "POST /revocations without until", code, h, body, 200, &revoked)
	if revoked.Revocation.Identity != "bob" || !revoked.Revocation.Until.IsZero() || revoked.Ended != 1 || strings.Contains(body, "until") {
		t.Fatalf("POST /revocations without until: %+v from %q", revoked, body)
	}

	code, h, body = send(t, "GET", base+"/revocations", "", "")
	var list struct {
		Revocations []sessions.Revocation `json:"revocations"`
	}
	wantJSON(t, "GET /revocations", code, h, body, 200, &list)
	if len(list.Revocations) != 2 || list.Revocations[0].Identity != "bob" || list.Revocations[1] != want {
		t.Fatalf("GET /revocations: %+v", list.Revocations)
	}

	code, h, body = send(t, "DELETE", base+"/revocations/"+url.PathEscape(who), "", "")
	var lifted struct {
		Lifted string `json:"lifted"`
	}
	wantJSON(t, "DELETE /revocations/{identity}", code, h, body, 200, &lifted)
	if lifted.Lifted != who {
		t.Fatalf("lifted %q, want %q", lifted.Lifted, who)
	}
	code, h, body = send(t, "DELETE", base+"/revocations/"+url.PathEscape(who), "", "")
	wantError(t, "DELETE /revocations/{identity} again", code, h, body, 404, "no revocation of")
	code, h, body = send(t, "DELETE", base+"/revocations/bob", "", "")
	wantJSON(t, "DELETE /revocations/bob", code, h, body, 200, &lifted)

	code, h, body = send(t, "GET", base+"/revocations", "", "")
	wantJSON(t, "GET /revocations when none", code, h, body, 200, &list)
	if body != "{\"revocations\":[]}\n" {
		t.Errorf("no revocations: %q, want an empty array", body)
	}
	l := logs.String()
	for _, want := range []string{
		`msg="identity revoked on the admin endpoint" remote=127.0.0.1:`,
		`identity=` + who + ` until=2099-01-02T03:04:05Z ended_sessions=2`,
		`identity=bob until=lifted ended_sessions=1`,
		`msg="revocation lifted on the admin endpoint" remote=127.0.0.1:`,
	} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %q:\n%s", want, l)
		}
	}
}

// TestIdentityPaths: the identity of DELETE /revocations/{identity} is
// the rest of the path, percent-decoded.
func TestIdentityPaths(t *testing.T) {
	for _, tc := range []struct{ path, identity string }{
		{"/revocations/alice", "alice"},
		{"/revocations/a%2Fb", "a/b"},
		{"/revocations/a/b", "a/b"},
		{"/revocations/%2E%2E", ".."},
		{"/revocations/x%3Fy%23z%25", "x?y#z%"},
		{"/revocations/al%20ice@example.com:1", "al ice@example.com:1"},
		{"/%72evocations/alice", "alice"},
	} {
		c := &sessionstest.Controller{At: revokedAt, Revs: map[string]sessions.Revocation{tc.identity: {Identity: tc.identity}}}
		_, base, _ := startControl(t, c)
		code, h, body := send(t, "DELETE", base+tc.path, "", "")
		var lifted struct {
			Lifted string `json:"lifted"`
		}
		wantJSON(t, "DELETE "+tc.path, code, h, body, 200, &lifted)
		if lifted.Lifted != tc.identity {
			t.Errorf("DELETE %s lifted %q, want %q", tc.path, lifted.Lifted, tc.identity)
		}
	}
}

func TestSessionControlBadRequests(t *testing.T) {
	c := &sessionstest.Controller{At: revokedAt, Live: []sessions.Session{fullSession("s1", "alice", "alice")}}
	_, base, _ := startControl(t, c)
	const jsonCT = "application/json"
	for _, tc := range []struct {
		method, path, ct, body string
		code                   int
		msg, allow             string
	}{
		{"GET", "/sessions?users=alice", "", "", 400, `unknown query parameter "users"`, ""},
		{"GET", "/sessions?user=a&user=b", "", "", 400, `"user" given 2 times`, ""},
		{"GET", "/sessions?user=%zz", "", "", 400, "malformed query", ""},
		{"GET", "/revocations?all=1", "", "", 400, "unknown query parameter", ""},
		{"DELETE", "/sessions/s1?force=1", "", "", 400, "unknown query parameter", ""},
		{"POST", "/revocations", jsonCT, `{"identity":""}`, 400, "invalid identity", ""},
		{"POST", "/revocations", jsonCT, `{"identity":"a\u0007b"}`, 400, "invalid identity", ""},
		{"POST", "/revocations", jsonCT, `{"identity":"alice","until":"2001-01-01T00:00:00Z"}`, 400, "bad request", ""},
		{"POST", "/revocations", jsonCT, `{"identity":"alice","until":"tomorrow"}`, 400, `until "tomorrow" is not an RFC 3339 time`, ""},
		{"POST", "/revocations", jsonCT, `{"identity":"alice","reason":"x"}`, 400, `unknown field "reason"`, ""},
		{"POST", "/revocations", jsonCT, `{"identity":`, 400, "invalid body", ""},
		{"POST", "/revocations", jsonCT, `{"identity":"alice"} {}`, 400, "data after the JSON object", ""},
		{"POST", "/revocations", jsonCT, ``, 400, "invalid body", ""},
		{"POST", "/revocations", jsonCT, `{"identity":"` + strings.Repeat("a", 5000) + `"}`, 413, "body larger than 4096 bytes", ""},
		{"POST", "/revocations", "", `{"identity":"alice"}`, 415, "Content-Type application/json", ""},
		{"POST", "/revocations", "text/plain", `{"identity":"alice"}`, 415, "Content-Type application/json", ""},
		{"POST", "/sessions", "", "", 405, "method not allowed", "GET"},
		{"HEAD", "/sessions", "", "", 405, "", "GET"},
		{"GET", "/sessions/s1", "", "", 405, "method not allowed", "DELETE"},
		{"PUT", "/revocations", "", "", 405, "method not allowed", "GET, POST"},
		{"POST", "/revocations/alice", "", "", 405, "method not allowed", "DELETE"},
		{"DELETE", "/sessions/", "", "", 404, "not found", ""},
		{"DELETE", "/revocations/", "", "", 404, "not found", ""},
	} {
		what := tc.method + " " + tc.path + " " + tc.body
		code, h, body := send(t, tc.method, base+tc.path, tc.ct, tc.body)
		if a := h.Get("Allow"); a != tc.allow {
			t.Errorf("%s: Allow %q, want %q", what, a, tc.allow)
		}
		if tc.method == "HEAD" {
			if code != tc.code || h.Get("Content-Type") != "application/json" {
				t.Errorf("%s: %d %q, want %d in JSON", what, code, h.Get("Content-Type"), tc.code)
			}
			continue
		}
		wantError(t, what, code, h, body, tc.code, tc.msg)
	}
	if live, revs, _ := c.State(); len(live) != 1 || len(revs) != 0 {
		t.Errorf("bad requests changed the state: live %v, revocations %v", live, revs)
	}
}

// TestSessionControlFailures: ErrUnavailable answers 503 and an unknown
// error 500, neither with the error's text.
func TestSessionControlFailures(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		msg  string
	}{
		{fmt.Errorf("%w: open /var/lib/avedge/revocations: read-only file system", sessions.ErrUnavailable), 503, "try again"},
		{errors.New("open /var/lib/avedge/revocations: disk on fire"), 500, "internal error"},
	} {
		c := &sessionstest.Controller{At: revokedAt, Err: tc.err}
		_, base, logs := startControl(t, c)
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/sessions", ""},
			{"DELETE", "/sessions/s1", ""},
			{"POST", "/revocations", `{"identity":"alice"}`},
			{"DELETE", "/revocations/alice", ""},
		} {
			code, h, body := send(t, r.method, base+r.path, "application/json", r.body)
			wantError(t, r.method+" "+r.path, code, h, body, tc.code, tc.msg)
			if strings.Contains(body, "/var/lib") {
				t.Errorf("%s %s: the answer %q shows the error", r.method, r.path, body)
			}
		}
		if !strings.Contains(logs.String(), "/var/lib/avedge/revocations") {
			t.Errorf("the error is not logged: %s", logs.String())
		}
	}
}

// TestSessionControlFromAnyAddress: with the token, session control
// answers clients on any address (the token replaced the loopback-only
// rule); without it, none, loopback ones included; the open paths answer
// everyone.
func TestSessionControlFromAnyAddress(t *testing.T) {
	s, _, logs := startControl(t, &sessionstest.Controller{At: revokedAt, Revs: map[string]sessions.Revocation{"alice": {Identity: "alice"}}})
	s.SetReady(true)
	serve := func(method, path, remote, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(`{"identity":"alice"}`))
		req.Host = s.Addr().String()
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.RemoteAddr = remote
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w
	}
	for _, remote := range []string{"192.0.2.1:1234", "[2001:db8::1]:1234", "10.0.0.1:80", "127.0.0.1:1234", "[::1]:1234"} {
		if w := serve("GET", "/revocations", remote, testToken); w.Code != 200 {
			t.Errorf("GET /revocations from %s with the token: %d %s, want 200", remote, w.Code, w.Body)
		}
		for _, r := range []struct{ method, path string }{
			{"GET", "/sessions"}, {"DELETE", "/sessions/s1"}, {"GET", "/revocations"},
			{"POST", "/revocations"}, {"DELETE", "/revocations/alice"}, {"PUT", "/sessions"},
		} {
			w := serve(r.method, r.path, remote, "")
			wantError(t, r.method+" "+r.path+" from "+remote, w.Code, w.Header(), w.Body.String(), 401, "a valid admin token is required")
		}
		for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
			if w := serve("GET", p, remote, ""); w.Code != 200 {
				t.Errorf("GET %s from %s: %d, want 200", p, remote, w.Code)
			}
		}
	}
	if !strings.Contains(logs.String(), `msg="admin request refused" reason=token remote=192.0.2.1:1234`) {
		t.Errorf("refusals not logged: %s", logs.String())
	}
	// Serving from another address did what it was asked.
	if w := serve("POST", "/revocations", "192.0.2.1:1234", testToken); w.Code != 200 || !strings.Contains(w.Body.String(), `"identity":"alice"`) {
		t.Errorf("POST /revocations from 192.0.2.1 with the token: %d %s", w.Code, w.Body)
	}
}

// TestSessionControlAbsent: without Options.Sessions the session paths
// do not exist.
func TestSessionControlAbsent(t *testing.T) {
	_, base := start(t, Options{})
	for _, r := range []struct{ method, path string }{
		{"GET", "/sessions"}, {"GET", "/sessions?user=a"}, {"DELETE", "/sessions/s1"},
		{"GET", "/revocations"}, {"POST", "/revocations"}, {"DELETE", "/revocations/alice"},
		{"PUT", "/sessions"},
	} {
		if code, _, body := do(t, r.method, base+r.path); code != 404 || !strings.Contains(body, "not found") {
			t.Errorf("%s %s without a Controller: %d %q, want 404", r.method, r.path, code, body)
		}
	}
}
