package credsvc

import (
	"testing"
	"time"

	"github.com/avedge/avedge/internal/clock"
)

// size returns the number of buckets held.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

func TestLimiterTokenBucket(t *testing.T) {
	clk := clock.NewFake(time.Unix(1_800_000_000, 0))
	l := newLimiter(Rate{PerSecond: 4, Burst: 2}, 16, clk)
	steps := []struct {
		advance time.Duration
		ok      bool
		wait    time.Duration
	}{
		{0, true, 0},
		{0, true, 0},
		{0, false, 250 * time.Millisecond},
		{100 * time.Millisecond, false, 150 * time.Millisecond},
		{150 * time.Millisecond, true, 0},
		{0, false, 250 * time.Millisecond},
		{time.Hour, true, 0}, // refilled to the burst, not beyond
		{0, true, 0},
		{0, false, 250 * time.Millisecond},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		ok, wait := l.allow("k", 1)
		if ok != s.ok || wait != s.wait {
			t.Fatalf("step %d: allow = %v, %v; want %v, %v", i, ok, wait, s.ok, s.wait)
		}
	}
}

func TestLimiterTakesNAllOrNone(t *testing.T) {
	clk := clock.NewFake(time.Unix(1_800_000_000, 0))
	l := newLimiter(Rate{PerSecond: 2, Burst: 4}, 16, clk)
	steps := []struct {
		n    int
		ok   bool
		wait time.Duration
	}{
		{3, true, 0},
		{2, false, 500 * time.Millisecond}, // one token left: none taken
		{1, true, 0},
		{4, false, 2 * time.Second},
	}
	for i, s := range steps {
		ok, wait := l.allow("k", s.n)
		if ok != s.ok || wait != s.wait {
			t.Fatalf("step %d: allow(%d) = %v, %v; want %v, %v", i, s.n, ok, wait, s.ok, s.wait)
		}
	}
}

func TestLimiterBounded(t *testing.T) {
	clk := clock.NewFake(time.Unix(1_800_000_000, 0))
	l := newLimiter(Rate{PerSecond: 1, Burst: 2}, 3, clk)
	for _, k := range []string{"a", "b", "c"} {
		l.allow(k, 1)
		clk.Advance(100 * time.Millisecond)
	}
	// No bucket is full: the one used longest ago ("a") makes room.
	l.allow("d", 1)
	if n := l.size(); n != 3 {
		t.Fatalf("%d buckets, want 3", n)
	}
	if _, ok := l.buckets["a"]; ok {
		t.Error("the oldest bucket was not evicted")
	}
	// Drain "b": after an eviction it must not come back full.
	l.allow("b", 1)
	if ok, _ := l.allow("b", 1); ok {
		t.Fatal("b has a third token")
	}
	// Once every bucket has refilled, all of them go: nothing is lost.
	clk.Advance(10 * time.Second)
	l.allow("e", 1)
	if n := l.size(); n != 1 {
		t.Errorf("%d buckets after refilling, want 1", n)
	}
}
