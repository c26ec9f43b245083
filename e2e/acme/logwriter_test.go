package acme

import (
	"strings"
	"sync"
	"testing"
)

// testWriter logs the edge's log lines to the test.
type testWriter struct {
	t    *testing.T
	name string
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Logf("%s: %s", w.name, strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}

// stop ends the logging, before the test does.
func (w *testWriter) stop() { w.mu.Lock(); w.done = true; w.mu.Unlock() }
