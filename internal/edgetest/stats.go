package edgetest

import (
	"testing"
	"time"

	"github.com/avedge/avedge/internal/server/stats"
)

const (
	// statsTimeout bounds WaitStats.
	statsTimeout = 5 * time.Second
	// statsPoll is how often WaitStats reads the counters.
	statsPoll = 2 * time.Millisecond
)

// WaitStats returns the relay's counters once cond holds for them, failing
// the test if it does not within 5 seconds. The relay publishes its
// counters once per round of its packet loop, just after sending what the
// round relayed, so a count may lag a delivery its test has just seen.
func (e *Edge) WaitStats(tb testing.TB, cond func(stats.Stats) bool) stats.Stats {
	tb.Helper()
	deadline := time.NewTimer(statsTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(statsPoll)
	defer tick.Stop()
	for {
		st := e.Stats()
		if cond(st) {
			return st
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			tb.Fatalf("edgetest: relay counters did not reach the expected values in %v: %+v", statsTimeout, st)
			return st
		}
	}
}
