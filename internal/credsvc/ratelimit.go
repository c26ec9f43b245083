package credsvc

import (
	"math"
	"sync"
	"time"

	"github.com/avedge/avedge/internal/clock"
)

// limiter is a token bucket per key with a bounded table.
type limiter struct {
	rate, burst float64
	max         int
	clk         clock.Clock

	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket is one key's tokens as of last.
type bucket struct {
	tokens float64
	last   time.Time
}

// newLimiter returns a limiter of r for at most max keys.
func newLimiter(r Rate, max int, clk clock.Clock) *limiter {
	return &limiter{rate: r.PerSecond, burst: float64(r.Burst), max: max, clk: clk, buckets: make(map[string]*bucket)}
}

// allow takes n tokens of key, all or none. When there are fewer it
// returns false and how long until there are n (never, for n above the
// burst: callers refuse those first).
func (l *limiter) allow(key string, n int) (bool, time.Duration) {
	now := l.clk.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.refill(now, l.rate, l.burst)
	need := float64(n)
	if b.tokens >= need {
		b.tokens -= need
		return true, 0
	}
	wait := time.Duration(math.Ceil((need - b.tokens) / l.rate * float64(time.Second)))
	return false, wait
}

// refill adds the tokens earned since b.last.
func (b *bucket) refill(now time.Time, rate, burst float64) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(burst, b.tokens+d.Seconds()*rate)
		b.last = now
	}
}

// evict makes room for a key: it drops every bucket that has refilled
// completely (such a bucket is the same as a new one, so nothing is lost),
// or else the one used longest ago.
func (l *limiter) evict(now time.Time) {
	var oldest string
	var oldestAt time.Time
	dropped := false
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
			dropped = true
			continue
		}
		if oldest == "" || b.last.Before(oldestAt) {
			oldest, oldestAt = k, b.last
		}
	}
	if !dropped {
		delete(l.buckets, oldest)
	}
}
