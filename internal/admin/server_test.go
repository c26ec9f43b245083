package admin

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var loopback = netip.MustParseAddrPort("127.0.0.1:0")

// testToken is the admin token of the servers that start runs.
const testToken = "test-admin-token-0123456789abcdef"

// testGatherer returns a registry holding one gauge, test_admin_up 1.
func testGatherer(t *testing.T) prometheus.Gatherer {
	t.Helper()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_admin_up", Help: "Test gauge."})
	g.Set(1)
	if err := reg.Register(g); err != nil {
		t.Fatal(err)
	}
	return reg
}

// start runs a Server on loopback until the test ends and returns it and
// its base URL. Its token is testToken unless opts names one.
func start(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	opts.Addr = loopback
	if opts.Gatherer == nil {
		opts.Gatherer = testGatherer(t)
	}
	if opts.Token == nil {
		opts.Token = []byte(testToken)
	}
	s, err := Listen(opts)
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
	return s, "http://" + s.Addr().String()
}

// do sends one request with testToken and returns the status, the
// headers and the body.
func do(t *testing.T, method, url string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

func TestPaths(t *testing.T) {
	s, base := start(t, Options{})
	s.SetReady(true)
	for _, tc := range []struct {
		method, path string
		code         int
		body         string // substring; "" for none (HEAD)
		contentType  string // prefix
		allow        string
	}{
		{"GET", "/metrics", 200, "\ntest_admin_up 1\n", "text/plain; version=0.0.4", ""},
		{"HEAD", "/metrics", 200, "", "text/plain; version=0.0.4", ""},
		{"GET", "/healthz", 200, "ok\n", "text/plain", ""},
		{"HEAD", "/healthz", 200, "", "text/plain", ""},
		{"GET", "/readyz", 200, "ready\n", "text/plain", ""},
		{"GET", "/healthz?verbose=1", 200, "ok\n", "text/plain", ""},
		{"POST", "/metrics", 405, "method not allowed", "text/plain", "GET, HEAD"},
		{"PUT", "/readyz", 405, "method not allowed", "text/plain", "GET, HEAD"},
		{"DELETE", "/healthz", 405, "method not allowed", "text/plain", "GET, HEAD"},
		{"GET", "/", 404, "not found", "text/plain", ""},
		{"GET", "/metrics/", 404, "not found", "text/plain", ""},
		{"GET", "/debug/pprof/", 404, "not found", "text/plain", ""},
		{"POST", "/nothing", 404, "not found", "text/plain", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			code, h, body := do(t, tc.method, base+tc.path)
			if code != tc.code {
				t.Errorf("status %d, want %d", code, tc.code)
			}
			if tc.method == "HEAD" && body != "" {
				t.Errorf("HEAD answered with a body: %q", body)
			}
			if !strings.Contains(body, tc.body) {
				t.Errorf("body %q lacks %q", body, tc.body)
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
				t.Errorf("Content-Type %q, want %q…", ct, tc.contentType)
			}
			if a := h.Get("Allow"); a != tc.allow {
				t.Errorf("Allow %q, want %q", a, tc.allow)
			}
		})
	}
}

func TestReadiness(t *testing.T) {
	s, base := start(t, Options{})
	for _, step := range []struct {
		set  *bool
		code int
		body string
	}{
		{nil, 503, "not ready\n"}, // starting
		{new(true), 200, "ready\n"},
		{new(false), 503, "not ready\n"}, // draining
		{new(true), 200, "ready\n"},
	} {
		if step.set != nil {
			s.SetReady(*step.set)
		}
		if code, _, body := do(t, "GET", base+"/readyz"); code != step.code || body != step.body {
			t.Fatalf("readyz after SetReady(%v): %d %q, want %d %q", step.set, code, body, step.code, step.body)
		}
		if code, _, _ := do(t, "GET", base+"/healthz"); code != 200 {
			t.Fatalf("healthz: %d, want 200 whatever the readiness", code)
		}
	}
}

// TestRunStops checks that Run marks the server not ready, closes the
// listener and returns nil when its context ends.
func TestRunStops(t *testing.T) {
	s, err := Listen(Options{Addr: loopback, Gatherer: testGatherer(t)})
	if err != nil {
		t.Fatal(err)
	}
	s.SetReady(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	if code, _, _ := do(t, "GET", "http://"+s.Addr().String()+"/readyz"); code != 200 {
		t.Fatalf("readyz: %d before stop", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if s.ready.Load() {
		t.Error("still ready after Run returned")
	}
	if c, err := net.Dial("tcp", s.Addr().String()); err == nil {
		c.Close()
		t.Error("listener still accepts after Run returned")
	}
}

// TestConnectionCap checks that a connection beyond MaxConns is not served
// until an earlier one closes.
func TestConnectionCap(t *testing.T) {
	s, _ := start(t, Options{MaxConns: 1})
	first, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	// The first connection holds the only slot once it is answered.
	if _, err := io.WriteString(first, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r1 := bufio.NewReader(first)
	if resp, err := http.ReadResponse(r1, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("first connection: %v %v", resp, err)
	}

	second, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if _, err := io.WriteString(second, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r2 := bufio.NewReader(second)
	_ = second.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := r2.ReadByte(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("second connection answered while the first holds the only slot: %v", err)
	}
	first.Close()
	_ = second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if resp, err := http.ReadResponse(r2, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("second connection after the first closed: %v %v", resp, err)
	}
}

func TestListenBadOptions(t *testing.T) {
	g := testGatherer(t)
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"no gatherer", Options{Addr: loopback}},
		{"no address", Options{Gatherer: g}},
		{"negative cap", Options{Addr: loopback, Gatherer: g, MaxConns: -1}},
		{"short token", Options{Addr: loopback, Gatherer: g, Token: []byte("0123456789abcde")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Listen(tc.opts); !errors.Is(err, ErrBadOptions) {
				t.Fatalf("Listen: %v, want ErrBadOptions", err)
			}
		})
	}
}

func TestListenAddressInUse(t *testing.T) {
	s, _ := start(t, Options{})
	_, err := Listen(Options{Addr: s.Addr(), Gatherer: testGatherer(t)})
	if err == nil || errors.Is(err, ErrBadOptions) {
		t.Fatalf("Listen on a bound address: %v, want a listen error", err)
	}
}
