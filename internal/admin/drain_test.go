package admin

import (
	"sync/atomic"
	"testing"
)

// TestDrain: POST /drain turns /readyz not ready and calls Options.Drain
// on each request (it is idempotent itself); other methods get 405 and
// call nothing; without Options.Drain the path does not exist.
func TestDrain(t *testing.T) {
	var calls atomic.Int32
	s, base := start(t, Options{Drain: func() { calls.Add(1) }})
	s.SetReady(true)
	for _, tc := range []struct {
		method string
		code   int
		body   string
		allow  string
		calls  int32
		ready  int
	}{
		{"GET", 405, "method not allowed\n", "POST", 0, 200},
		{"HEAD", 405, "", "POST", 0, 200},
		{"PUT", 405, "method not allowed\n", "POST", 0, 200},
		{"POST", 202, "draining\n", "", 1, 503},
		{"POST", 202, "draining\n", "", 2, 503},
	} {
		code, h, body := do(t, tc.method, base+"/drain")
		if code != tc.code || body != tc.body || h.Get("Allow") != tc.allow {
			t.Fatalf("%s /drain: %d %q Allow %q, want %d %q Allow %q", tc.method, code, body, h.Get("Allow"), tc.code, tc.body, tc.allow)
		}
		if got := calls.Load(); got != tc.calls {
			t.Fatalf("after %s: Drain called %d times, want %d", tc.method, got, tc.calls)
		}
		if code, _, _ := do(t, "GET", base+"/readyz"); code != tc.ready {
			t.Fatalf("after %s /drain: readyz %d, want %d", tc.method, code, tc.ready)
		}
	}

	_, base = start(t, Options{})
	if code, _, _ := do(t, "POST", base+"/drain"); code != 404 {
		t.Fatalf("POST /drain without Options.Drain: %d, want 404", code)
	}
}
