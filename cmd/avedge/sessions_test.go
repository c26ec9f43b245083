package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/avedge/avedge/internal/admin"
	"github.com/avedge/avedge/internal/sessions"
	"github.com/avedge/avedge/internal/sessions/sessionstest"
)

// sessionsNow is the clock of the "avedge sessions" tests.
var sessionsNow = time.Date(2030, 1, 2, 12, 0, 0, 0, time.UTC)

// runSessions runs "avedge sessions args..." with the clock sessionsNow
// and returns its output and error. With --admin it adds --token-file, a
// file holding cliToken, unless args name one.
func runSessions(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if slices.Contains(args, "--admin") && !slices.Contains(args, "--token-file") {
		args = append(args, "--token-file", tokenFile(t, cliToken))
	}
	var out bytes.Buffer
	cmd := newSessionsCmd(func() time.Time { return sessionsNow })
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// seen is a request an admin stub received.
type seen struct {
	method, uri, contentType, body string
}

// tokenFile writes token to a file of the test and returns its path.
func tokenFile(t *testing.T, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "admin.token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// adminStub runs an admin endpoint on loopback that answers every request
// with status code, Content-Type ct and body, and returns its base URL and
// the requests it saw. A request without cliToken as its bearer token
// gets 401 instead, as from an edge.
func adminStub(t *testing.T, code int, ct, body string) (string, <-chan seen) {
	t.Helper()
	reqs := make(chan seen, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs <- seen{r.Method, r.RequestURI, r.Header.Get("Content-Type"), string(b)}
		if r.Header.Get("Authorization") != "Bearer "+cliToken {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"a valid admin token is required"}`)
			return
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, reqs
}

// wantSeen checks the one request an admin stub saw.
func wantSeen(t *testing.T, reqs <-chan seen, want seen) {
	t.Helper()
	select {
	case got := <-reqs:
		if got != want {
			t.Errorf("the admin endpoint got %+v, want %+v", got, want)
		}
	default:
		t.Errorf("the admin endpoint got no request, want %+v", want)
	}
}

// sampleSessions returns two sessions of ages 90 s and 2 h at
// sessionsNow.
func sampleSessions() []sessions.Session {
	return []sessions.Session{{
		ID: "a1b2", User: "1900000000:alice", Identity: "alice", Dialect: "rfc", Transport: "udp", RelayProtocol: "udp",
		Client:  netip.MustParseAddrPort("192.0.2.10:40000"),
		Relayed: []netip.AddrPort{netip.MustParseAddrPort("198.51.100.1:50000")},
		Peers: []sessions.Peer{
			{Address: netip.MustParseAddr("203.0.113.5"), Expires: sessionsNow.Add(time.Minute)},
			{Address: netip.MustParseAddr("203.0.113.6"), Expires: sessionsNow.Add(time.Minute)},
		},
		Start: sessionsNow.Add(-90*time.Second - 400*time.Millisecond), Expires: sessionsNow.Add(time.Minute),
		ToPeerBytes: 1_234_567, ToClientBytes: 999,
	}, {
		ID: "c3d4", User: "tenant/bob", Identity: "tenant/bob", Dialect: "ms-turn", Transport: "tls", RelayProtocol: "udp",
		Client:  netip.MustParseAddrPort("[2001:db8::5]:443"),
		Relayed: []netip.AddrPort{netip.MustParseAddrPort("198.51.100.1:50002"), netip.MustParseAddrPort("[2001:db8::1]:50002")},
		Start:   sessionsNow.Add(-2 * time.Hour), Expires: sessionsNow.Add(time.Minute),
		ToClientBytes: 1500,
	}}
}

// jsonOf marshals v.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSessionsList(t *testing.T) {
	list := sampleSessions()
	base, reqs := adminStub(t, 200, "application/json", jsonOf(t, map[string]any{"sessions": list}))
	out, err := runSessions(t, "list", "--admin", base, "--user", "1900000000:alice", "--identity", "alice")
	const table = "" +
		"ID    IDENTITY    DIALECT  TRANSPORT  CLIENT             RELAYED                                 PEERS  AGE     TO PEER  TO CLIENT\n" +
		"a1b2  alice       rfc      udp        192.0.2.10:40000   198.51.100.1:50000                      2      1m30s   1.2 MB   999 B\n" +
		"c3d4  tenant/bob  ms-turn  tls        [2001:db8::5]:443  198.51.100.1:50002,[2001:db8::1]:50002  0      2h0m0s  0 B      1.5 kB\n"
	if err != nil || out != table {
		t.Fatalf("sessions list: %v\n%s\nwant\n%s", err, out, table)
	}
	wantSeen(t, reqs, seen{"GET", "/sessions?identity=alice&user=1900000000%3Aalice", "", ""})

	out, err = runSessions(t, "list", "--admin", base, "--json")
	var indented bytes.Buffer
	if err := json.Indent(&indented, []byte(jsonOf(t, list)), "", "  "); err != nil {
		t.Fatal(err)
	}
	if err != nil || out != indented.String()+"\n" {
		t.Fatalf("sessions list --json: %v\n%s\nwant\n%s", err, out, indented.String())
	}
	var back []sessions.Session
	if err := json.Unmarshal([]byte(out), &back); err != nil || len(back) != 2 || back[1].Identity != "tenant/bob" {
		t.Fatalf("sessions list --json does not decode: %v %+v", err, back)
	}
	wantSeen(t, reqs, seen{"GET", "/sessions", "", ""})

	empty, _ := adminStub(t, 200, "application/json", `{"sessions":[]}`)
	for _, tc := range []struct{ flag, want string }{{"--json", "[]\n"}, {"--json=false", "no live sessions\n"}} {
		if out, err := runSessions(t, "list", "--admin", empty, tc.flag); err != nil || out != tc.want {
			t.Errorf("sessions list %s of none: %q, %v, want %q", tc.flag, out, err, tc.want)
		}
	}
}

func TestSessionsEnd(t *testing.T) {
	base, reqs := adminStub(t, 200, "application/json", `{"ended":"a1b2"}`)
	if out, err := runSessions(t, "end", "a1b2", "--admin", base); err != nil || out != "ended session a1b2\n" {
		t.Fatalf("sessions end: %q, %v", out, err)
	}
	wantSeen(t, reqs, seen{"DELETE", "/sessions/a1b2", "", ""})

	gone, _ := adminStub(t, 404, "application/json", `{"error":"no live session \"zz\""}`)
	if _, err := runSessions(t, "end", "zz", "--admin", gone); !errors.Is(err, errNoSession) || err.Error() != "no live session zz" {
		t.Fatalf("sessions end of an unknown ID: %v, want %q", err, "no live session zz")
	}
}

func TestSessionsRevoke(t *testing.T) {
	until := sessionsNow.Add(2 * time.Hour)
	answer := jsonOf(t, map[string]any{
		"revocation":     sessions.Revocation{Identity: "tenant/bob", At: sessionsNow, Until: until},
		"ended_sessions": 2,
	})
	base, reqs := adminStub(t, 200, "application/json", answer)
	for _, flag := range []string{"2h", "2030-01-02T14:00:00Z", "2030-01-02T15:00:00+01:00"} {
		out, err := runSessions(t, "revoke", "tenant/bob", "--until", flag, "--admin", base)
		if err != nil || out != "revoked tenant/bob until 2030-01-02T14:00:00Z; 2 live sessions ended\n" {
			t.Fatalf("sessions revoke --until %s: %q, %v", flag, out, err)
		}
		wantSeen(t, reqs, seen{"POST", "/revocations", "application/json", `{"identity":"tenant/bob","until":"2030-01-02T14:00:00Z"}`})
	}

	base, reqs = adminStub(t, 200, "application/json", `{"revocation":{"identity":"bob","at":"2030-01-02T12:00:00Z"},"ended_sessions":1}`)
	out, err := runSessions(t, "revoke", "bob", "--admin", base)
	if err != nil || out != "revoked bob until lifted; 1 live session ended\n" {
		t.Fatalf("sessions revoke without --until: %q, %v", out, err)
	}
	wantSeen(t, reqs, seen{"POST", "/revocations", "application/json", `{"identity":"bob"}`})

	for _, bad := range []string{"tomorrow", "-2h", "0s", "2030-01-02"} {
		if _, err := runSessions(t, "revoke", "bob", "--until", bad, "--admin", base); !errors.Is(err, errBadUntil) {
			t.Errorf("sessions revoke --until %s: %v, want %v", bad, err, errBadUntil)
		}
	}
	select {
	case r := <-reqs:
		t.Errorf("a bad --until sent %+v", r)
	default:
	}

	refused, _ := adminStub(t, 400, "application/json", `{"error":"sessions: invalid identity: holds non-printable characters"}`)
	if _, err := runSessions(t, "revoke", "a\tb", "--admin", refused); !errors.Is(err, errAdminAnswer) ||
		!strings.Contains(err.Error(), "400 Bad Request: sessions: invalid identity: holds non-printable characters") {
		t.Errorf("sessions revoke refused: %v", err)
	}
}

func TestSessionsRevocations(t *testing.T) {
	list := []sessions.Revocation{
		{Identity: "alice", At: sessionsNow.Add(-time.Hour)},
		{Identity: "tenant/bob", At: sessionsNow, Until: sessionsNow.Add(2 * time.Hour)},
	}
	base, reqs := adminStub(t, 200, "application/json", jsonOf(t, map[string]any{"revocations": list}))
	out, err := runSessions(t, "revocations", "--admin", base)
	const table = "" +
		"IDENTITY    REVOKED AT            UNTIL\n" +
		"alice       2030-01-02T11:00:00Z  lifted\n" +
		"tenant/bob  2030-01-02T12:00:00Z  2030-01-02T14:00:00Z\n"
	if err != nil || out != table {
		t.Fatalf("sessions revocations: %v\n%s\nwant\n%s", err, out, table)
	}
	wantSeen(t, reqs, seen{"GET", "/revocations", "", ""})
	out, err = runSessions(t, "revocations", "--admin", base, "--json")
	var back []sessions.Revocation
	if err != nil || json.Unmarshal([]byte(out), &back) != nil || !slices.Equal(back, list) || !strings.HasPrefix(out, "[\n  {\n    \"identity\": \"alice\",") {
		t.Fatalf("sessions revocations --json: %v\n%s", err, out)
	}

	empty, _ := adminStub(t, 200, "application/json", `{"revocations":[]}`)
	if out, err := runSessions(t, "revocations", "--admin", empty); err != nil || out != "no revocations\n" {
		t.Errorf("sessions revocations of none: %q, %v", out, err)
	}
}

func TestSessionsLift(t *testing.T) {
	for _, tc := range []struct{ identity, uri string }{
		{"alice", "/revocations/alice"},
		{"tenant/bob@example.com:1", "/revocations/tenant%2Fbob@example.com:1"},
		{"..", "/revocations/%2E%2E"},
		{"50% off?#", "/revocations/50%25%20off%3F%23"},
	} {
		base, reqs := adminStub(t, 200, "application/json", jsonOf(t, map[string]string{"lifted": tc.identity}))
		if out, err := runSessions(t, "lift", tc.identity, "--admin", base); err != nil || out != "lifted the revocation of "+tc.identity+"\n" {
			t.Errorf("sessions lift %s: %q, %v", tc.identity, out, err)
		}
		wantSeen(t, reqs, seen{"DELETE", tc.uri, "", ""})
	}
	gone, _ := adminStub(t, 404, "application/json", `{"error":"no revocation of \"bob\""}`)
	if _, err := runSessions(t, "lift", "bob", "--admin", gone); !errors.Is(err, errNoRevocation) || err.Error() != "no revocation of bob" {
		t.Fatalf("sessions lift of none: %v", err)
	}
}

// TestSessionsErrors: what an operator reads when the admin endpoint is
// down, refuses, lacks session control or answers nonsense.
func TestSessionsErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	_, err = runSessions(t, "list", "--admin", closed)
	if want := "cannot reach the admin endpoint at " + closed + ": connection refused (is the edge running, and is admin.listen set?)"; !errors.Is(err, errAdminUnreachable) || err.Error() != want {
		t.Errorf("unreachable: %v, want %q", err, want)
	}

	base, _ := adminStub(t, 200, "application/json", `{"revocations":[]}`)
	for _, args := range [][]string{{"list"}, {"end", "a1b2"}, {"revoke", "bob"}, {"revocations"}, {"lift", "bob"}} {
		_, err := runSessions(t, append(args, "--admin", base, "--token-file", tokenFile(t, "another-admin-token-0123456789"))...)
		if !errors.Is(err, errAdminToken) || !strings.Contains(err.Error(), "use the content of the edge's admin.token_file") ||
			!strings.Contains(err.Error(), "a valid admin token is required") {
			t.Errorf("%v with the wrong token: %v", args, err)
		}
	}
	for _, tc := range []struct {
		code int
		msg  string
	}{
		{403, "the admin token is not configured: set admin.token_file"},
		{421, "address it by the IP address and port of its admin.listen"},
	} {
		refusing, _ := adminStub(t, tc.code, "application/json", `{"error":"the admin token is not configured: set admin.token_file"}`)
		if _, err := runSessions(t, "list", "--admin", refusing); !errors.Is(err, errAdminRequest) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("refused with %d: %v, want an error with %q", tc.code, err, tc.msg)
		}
	}

	older, _ := adminStub(t, 404, "text/plain; charset=utf-8", "404 page not found\n")
	if _, err := runSessions(t, "end", "a1b2", "--admin", older); !errors.Is(err, errNoSessionControl) || !strings.Contains(err.Error(), "older than session control") {
		t.Errorf("an edge without session control: %v", err)
	}

	for _, tc := range []struct {
		code      int
		ct, body  string
		args      []string
		want, not string
	}{
		{500, "application/json", `{"error":"internal error"}`, []string{"list"}, "GET " + "%s/sessions answered 500 Internal Server Error: internal error", ""},
		{503, "application/json", `{"error":"try again"}`, []string{"end", "x"}, "DELETE %s/sessions/x answered 503 Service Unavailable: try again", ""},
		{502, "text/plain", "\x1b[2Jbad gateway", []string{"revocations"}, `502 Bad Gateway: "\x1b[2Jbad gateway"`, "\x1b"},
		{502, "text/html", strings.Repeat("x", 1000), []string{"revocations"}, "502 Bad Gateway: " + strings.Repeat("x", 512) + "…", strings.Repeat("x", 513)},
		{200, "application/json", `{"ended":` + strings.Repeat(" ", 100<<10) + `"x"}`, []string{"end", "x"}, "the answer is larger than 65536 bytes", ""},
		{200, "application/json", `not JSON`, []string{"revocations"}, "malformed answer", ""},
	} {
		base, _ := adminStub(t, tc.code, tc.ct, tc.body)
		_, err := runSessions(t, append(tc.args, "--admin", base)...)
		want := tc.want
		if strings.Contains(want, "%s") {
			want = fmt.Sprintf(want, base)
		}
		if !errors.Is(err, errAdminAnswer) || !strings.Contains(err.Error(), want) || (tc.not != "" && strings.Contains(err.Error(), tc.not)) {
			t.Errorf("%v answered %d: %v, want an error with %q", tc.args, tc.code, err, want)
		}
	}
}

// TestSessionsFlags: --admin with --token-file, or --config, which names
// a configuration with an admin section, whose token the command sends.
func TestSessionsFlags(t *testing.T) {
	base, reqs := adminStub(t, 200, "application/json", `{"revocations":[]}`)
	dir := t.TempDir()
	port, err := strconv.Atoi(base[strings.LastIndex(base, ":")+1:])
	if err != nil {
		t.Fatal(err)
	}
	path := cliConfig(t, dir, freeUDPPort(t), "31400-31499", adminSection(t, dir, port))
	if out, err := runSessions(t, "revocations", "--config", path); err != nil || out != "no revocations\n" {
		t.Fatalf("sessions revocations --config: %q, %v", out, err)
	}
	wantSeen(t, reqs, seen{"GET", "/revocations", "", ""})

	noAdmin := filepath.Join(dir, "no-admin.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(noAdmin, []byte(strings.Split(string(data), "admin:")[0]), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runSessions(t, "list", "--config", noAdmin); !errors.Is(err, errNoAdmin) {
		t.Errorf("sessions list --config without admin: %v, want %v", err, errNoAdmin)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sessions", "list"}, "at least one of the flags in the group [admin config] is required"},
		{[]string{"sessions", "lift", "bob", "--admin", base, "--token-file", filepath.Join(dir, "admin.token"), "--config", path}, "none of the others can be"},
		{[]string{"sessions", "list", "--admin", base}, "if any flags in the group [admin token-file] are set they must all be set; missing [token-file]"},
		{[]string{"sessions", "list", "--config", path, "--token-file", filepath.Join(dir, "admin.token")}, "missing [admin]"},
		{[]string{"sessions", "list", "--admin", base, "--token-file", filepath.Join(dir, "missing.token")}, "--token-file: config: admin token: cannot read"},
		{[]string{"sessions", "list", "--admin", base, "--token-file", path}, "admin token: holds a space"},
		{[]string{"sessions", "end", "--admin", base, "--token-file", filepath.Join(dir, "admin.token")}, "accepts 1 arg(s), received 0"},
		{[]string{"sessions", "list", "--admin", "127.0.0.1:9090", "--token-file", filepath.Join(dir, "admin.token")}, "expected a URL"},
	} {
		wantError(t, tc.args, tc.want)
	}
	if out, _, err := run(t, context.Background(), "sessions", "--help"); err != nil || !strings.Contains(out, "revoke") {
		t.Errorf("sessions --help: %q, %v", out, err)
	}
}

// TestSessionsAgainstAdmin drives a real admin server with an in-memory
// Controller through every subcommand: the paths, escapes and JSON of the
// command and of the server agree.
func TestSessionsAgainstAdmin(t *testing.T) {
	c := &sessionstest.Controller{Live: sampleSessions(), At: sessionsNow}
	s, err := admin.Listen(admin.Options{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Gatherer: prometheus.NewRegistry(), Sessions: c, Token: []byte(cliToken)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	base := "http://" + s.Addr().String()

	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "--identity", "tenant/bob"}, "c3d4  tenant/bob"},
		{[]string{"end", "a1b2"}, "ended session a1b2\n"},
		{[]string{"revoke", "tenant/bob", "--until", "2h"}, "revoked tenant/bob until 2030-01-02T14:00:00Z; 1 live session ended\n"},
		{[]string{"revoke", ".."}, "revoked .. until lifted; 0 live sessions ended\n"},
		{[]string{"list"}, "no live sessions\n"},
		{[]string{"revocations"}, "..          2030-01-02T12:00:00Z  lifted\ntenant/bob  2030-01-02T12:00:00Z  2030-01-02T14:00:00Z\n"},
		{[]string{"lift", "tenant/bob"}, "lifted the revocation of tenant/bob\n"},
		{[]string{"lift", ".."}, "lifted the revocation of ..\n"},
		{[]string{"revocations", "--json"}, "[]\n"},
	} {
		out, err := runSessions(t, append(step.args, "--admin", base)...)
		if err != nil || !strings.Contains(out, step.want) {
			t.Fatalf("sessions %v: %v\n%s\nwant %q", step.args, err, out, step.want)
		}
	}
	if _, err := runSessions(t, "end", "a1b2", "--admin", base); !errors.Is(err, errNoSession) {
		t.Errorf("sessions end of an ended session: %v, want %v", err, errNoSession)
	}
	if _, err := runSessions(t, "lift", "tenant/bob", "--admin", base); !errors.Is(err, errNoRevocation) {
		t.Errorf("sessions lift of a lifted revocation: %v, want %v", err, errNoRevocation)
	}
}

func TestHumanBytes(t *testing.T) {
	for _, tc := range []struct {
		n    uint64
		want string
	}{
		{0, "0 B"}, {999, "999 B"}, {1000, "1.0 kB"}, {1_234_567, "1.2 MB"},
		{999_949, "999.9 kB"}, {999_950, "1.0 MB"}, {1<<64 - 1, "18.4 EB"},
	} {
		if got := humanBytes(tc.n); got != tc.want {
			t.Errorf("humanBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
