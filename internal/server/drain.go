package server

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/stun/v3"
)

const (
	// DefaultDrainTimeout is the Options.DrainTimeout used when it is 0.
	DefaultDrainTimeout = 30 * time.Minute
	// drainProgressEvery is how often a drain logs the allocations left.
	drainProgressEvery = 10 * time.Second
	// reasonDrainTimeout is the end reason of the allocations a drain
	// ended at its deadline (Record.Reason).
	reasonDrainTimeout = "drain timeout"
)

// codeDraining is the answer to an Allocate while draining without a
// sibling of the client's family: RFC 8656 §7.2 has no 503, and 508
// Insufficient Capacity is what a client already handles.
var codeDraining = stun.ErrorCodeAttribute{Code: stun.CodeInsufficientCapacity, Reason: []byte("draining")}

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
	// alternate is the sibling per family of the client's listener; the
	// zero AddrPort when there is none.
	alternate [families]netip.AddrPort
	timeout   time.Duration
}

// newDrainState picks the first sibling of each family in alternates.
func newDrainState(alternates []netip.AddrPort, timeout time.Duration) *drainState {
	if timeout <= 0 {
		timeout = DefaultDrainTimeout
	}
	d := &drainState{started: make(chan struct{}), ended: make(chan struct{}, 1), timeout: timeout}
	for _, a := range alternates {
		a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
		if f := familyOf(a.Addr()); !d.alternate[f].IsValid() {
			d.alternate[f] = a
		}
	}
	return d
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

// Draining reports whether Drain was called.
func (s *Server) Draining() bool { return s.env.drain.on.Load() }

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
		"timeout", d.timeout.String(), "alternate_servers", d.siblings())
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

// siblings lists the alternate servers in use, for logs.
func (d *drainState) siblings() []string {
	var out []string
	for _, a := range d.alternate {
		if a.IsValid() {
			out = append(out, a.String())
		}
	}
	return out
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

// refuseDraining answers an authenticated Allocate while draining, RFC
// 8489 §10 and RFC 8656 §7.2: 300 Try Alternate with ALTERNATE-SERVER, the
// sibling of the family of the listener the request reached (a client
// reaches the sibling the way it reached this server), or 508 without one.
// It reports false when not draining.
func (w *worker) refuseDraining(r *request) bool {
	d := w.env.drain
	if !d.on.Load() {
		return false
	}
	if alt := d.alternate[familyOf(r.l.addr.Addr())]; alt.IsValid() {
		w.fail(r, stun.CodeTryAlternate, &stun.AlternateServer{IP: alt.Addr().AsSlice(), Port: int(alt.Port())})
		return true
	}
	w.begin(r, stun.ClassErrorResponse)
	_ = codeDraining.AddTo(r.resp)
	w.finish(r)
	return true
}
