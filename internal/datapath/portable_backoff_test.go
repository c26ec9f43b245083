package datapath

import (
	"testing"
	"time"
)

// TestReadBackoff: a single read failure is retried at once; failures in a
// row wait longer and longer, up to 100 ms; a stopped reader stops waiting.
func TestReadBackoff(t *testing.T) {
	want := map[int]time.Duration{0: 0, 1: 0, 2: time.Millisecond, 3: 2 * time.Millisecond, 8: 64 * time.Millisecond,
		9: 100 * time.Millisecond, 1000: 100 * time.Millisecond}
	for n, d := range want {
		if got := readBackoff(n); got != d {
			t.Errorf("readBackoff(%d) = %v, want %v", n, got, d)
		}
	}
	r := &reader{stop: make(chan struct{}), done: make(chan struct{})}
	if !r.pause(0) {
		t.Fatal("a running reader stopped")
	}
	close(r.stop)
	if r.pause(time.Hour) || r.pause(0) {
		t.Fatal("a stopped reader went on")
	}
}
