package server

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// DefaultDrainTimeout is the Options.DrainTimeout used when it is 0.
	DefaultDrainTimeout = 30 * time.Minute
	// drainProgressEvery is how often a drain logs the allocations left.
	drainProgressEvery = 10 * time.Second
)

// drainState is what a drain shares between Drain, Run and the workers.
type drainState struct {
	on      atomic.Bool
	once    sync.Once
	started chan struct{} // closed by the first Drain
	// ended is signalled (without blocking) when an allocation ends while
	// draining, so that Run looks whether it was the last.
	ended chan struct{}
	// timedOut is set when the deadline passed: the allocations still live
	// end with reason "drain timeout".
	timedOut atomic.Bool
	// alternate are the siblings that new allocations are sent to.
	alternate alternates
	timeout   time.Duration
}

// newDrainState returns the state of a drain that sends new allocations to
// siblings.
func newDrainState(siblings []netip.AddrPort, timeout time.Duration) *drainState {
	if timeout <= 0 {
		timeout = DefaultDrainTimeout
	}
	return &drainState{started: make(chan struct{}), ended: make(chan struct{}, 1), timeout: timeout,
		alternate: newAlternates(siblings)}
}

// Drain makes the server refuse new allocations (300 Try Alternate with
// the configured sibling, else 508) while the live ones keep working; Run
// returns once the last has ended or the drain timeout has passed, when it
// ends the rest with reason "drain timeout". Drain returns at once, is
// idempotent and safe from any goroutine; it does nothing to a server
// that never runs (Close releases it).
func (s *Server) Drain() {
	d := s.env.drain
	d.once.Do(func() {
		d.on.Store(true)
		close(d.started)
	})
}

// watchDrain waits for a drain to start and then stops the server (calls
// stop) once no allocation is left or the timeout passed, logging the
// allocations left every 10 seconds. It returns when ctx is done.
func (s *Server) watchDrain(ctx context.Context, stop context.CancelFunc) {
	d := s.env.drain
	select {
	case <-ctx.Done():
		return
	case <-d.started:
	}
	log := s.env.log
	log.Info("draining: new allocations are refused", "allocations", s.env.quota.Total(),
		"timeout", d.timeout.String(), "alternate_servers", d.alternate.list())
	deadline := time.NewTimer(d.timeout)
	defer deadline.Stop()
	progress := time.NewTicker(drainProgressEvery)
	defer progress.Stop()
	for {
		left := s.env.quota.Total()
		if left == 0 {
			log.Info("drained: no allocation left")
			stop()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-d.ended:
		case <-progress.C:
			log.Info("draining", "allocations", left)
		case <-deadline.C:
			log.Warn("drain timeout: ending the allocations left", "allocations", left)
			d.timedOut.Store(true)
			stop()
			return
		}
	}
}

// allocationEnded tells a drain in progress that an allocation ended. It
// never blocks.
func (d *drainState) allocationEnded() {
	if !d.on.Load() {
		return
	}
	select {
	case d.ended <- struct{}{}:
	default:
	}
}
