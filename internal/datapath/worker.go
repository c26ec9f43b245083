package datapath

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avedge/avedge/internal/clock"
)

// Names of the data paths a Worker runs, as Worker.Path reports them.
const (
	// PathEpoll is Linux's fast path: epoll, recvmmsg(2), sendmmsg(2) and
	// UDP GSO on non-blocking sockets outside Go's netpoller.
	PathEpoll = "linux epoll (recvmmsg/sendmmsg/GSO)"
	// PathPortable is the path of every other system, and of Linux workers
	// created with WorkerOptions.Portable: one goroutine per socket reading
	// one datagram per call on a net.UDPConn, without GSO or TOS.
	PathPortable = "portable (one datagram per call)"
)

// Worker is one packet loop: one goroutine that delivers the datagrams of
// many Conns to a Handler. Run drives it; Add, Remove and the Handler
// callbacks run on the worker goroutine, so the worker's state needs no
// locks. On Linux it owns one epoll instance (PathEpoll); elsewhere, or with
// WorkerOptions.Portable, a reader goroutine per Conn feeds it
// (PathPortable).
type Worker struct {
	h    Handler
	tick time.Duration
	clk  clock.Clock
	// hurry, set by Hurry during a round, skips the next BatchDelay.
	// Worker goroutine only.
	hurry bool
	// batching is set while the loop delivers one round of datagrams:
	// Conn.QueueTo queues then, and the loop flushes at the end of the
	// round. Worker goroutine only.
	batching bool
	doq      chan func()
	ctr      counters
	// port is the state of the portable data path, nil on the fast path.
	port *portable
	// fastWorker is the state of the system's fast path (empty where
	// there is none).
	//lint:ignore U1000 holds nothing on systems without a fast path
	fastWorker

	// mu orders Do, Close and the start and end of Run, and guards the
	// lifetime of the wake-up signal against late signals.
	mu      sync.Mutex
	closed  bool
	running bool
	// closing mirrors closed for lock-free checks on the worker goroutine.
	closing atomic.Bool
}

// NewWorker creates a Worker that delivers to h. On the fast path it
// allocates the epoll instance, the eventfd and all receive buffers (one
// slab of BatchSize × (Headroom+MaxPacket+Tailroom) bytes); the portable
// path allocates BatchSize receive buffers of that size, and one more per
// Conn it reads (up to 2 × BatchSize spare ones).
func NewWorker(h Handler, opts WorkerOptions) (*Worker, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil Handler", ErrBadOptions)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	w := &Worker{
		h:    h,
		tick: opts.TickInterval,
		clk:  opts.Clock,
		doq:  make(chan func(), doQueueSize),
	}
	if err := w.init(opts); err != nil {
		return nil, err
	}
	return w, nil
}

// Path names the data path the worker runs: PathEpoll or PathPortable.
func (w *Worker) Path() string {
	if w.port != nil {
		return PathPortable
	}
	return PathEpoll
}

// Add registers c so that the worker reads it. Call it before Run, or on the
// worker goroutine (from HandlePacket, Tick or a function passed to Do); from
// any other goroutine, wrap it in Do. A Conn is added to at most one worker
// (else ErrAlreadyAdded), and only to a worker of its own data path (a Conn
// opened with ListenConfig.Portable to a worker created with
// WorkerOptions.Portable; else ErrWrongPath); while added, its writes count
// on this worker's Stats.
func (w *Worker) Add(c *Conn) error {
	if w.closing.Load() || c.closed.Load() {
		return ErrClosed
	}
	if (w.port != nil) != (c.udp != nil) {
		return fmt.Errorf("%w: %s conn, %s worker", ErrWrongPath, c.path(), w.Path())
	}
	if !c.worker.CompareAndSwap(nil, w) {
		return ErrAlreadyAdded
	}
	if err := w.add(c); err != nil {
		c.worker.Store(nil)
		return err
	}
	return nil
}

// Remove deregisters c: the worker stops reading it, including the rest of a
// round being delivered when Remove is called from HandlePacket. Datagrams
// queued on c with QueueTo are sent first. The same goroutine rule as Add
// applies. Remove a Conn before closing it.
func (w *Worker) Remove(c *Conn) error {
	if c.worker.Load() != w {
		return ErrNotAdded
	}
	return w.remove(c)
}

// Run is the packet loop. It waits for datagrams with a timeout that honours
// the next tick and calls HandlePacket for each, in rounds: on the fast path
// a round reads one batch with recvmmsg(2) from each ready Conn (so one
// flooded socket cannot starve the others); on the portable path it takes
// up to WorkerOptions.BatchSize datagrams that the Conns' reader goroutines
// have read. Truncated datagrams are dropped and counted.
//
// Run returns nil after Close, or the context's error when ctx is done; before
// returning it runs the functions already queued with Do. It closes only what
// the worker owns (after Close), never the Conns. One Run at a time (else
// ErrRunning); after ctx ends, Run may be called again.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.begin(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, w.signal)
	defer stop()
	err := w.loop(ctx)
	w.runQueued()
	w.h.EndRound()
	return errors.Join(err, w.end())
}

// begin marks the worker running.
func (w *Worker) begin() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closed:
		return ErrClosed
	case w.running:
		return ErrRunning
	}
	w.running = true
	return nil
}

// end marks the worker stopped and releases what it owns if it was closed
// meanwhile.
func (w *Worker) end() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running = false
	if w.closed {
		return w.release()
	}
	return nil
}

// stopping handles a wake-up of the loop: it reports whether the loop must
// stop (and with which error), else runs the queued functions.
func (w *Worker) stopping(ctx context.Context) (bool, error) {
	if w.closing.Load() {
		return true, nil
	}
	if err := ctx.Err(); err != nil {
		return true, fmt.Errorf("datapath: run: %w", err)
	}
	w.runQueued()
	return false, nil
}

// Close stops the worker: a running Run returns, and what the worker owns
// (its epoll and eventfd descriptors, or its reader goroutines) is released
// (by Run on its way out if it is running). Conns are not closed, but they
// are deregistered, so they can be added to another worker. A running Run
// still runs the functions already queued with Do before it returns; without
// a running Run they are discarded. Close is idempotent and safe from any
// goroutine.
func (w *Worker) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	w.closing.Store(true)
	if w.running {
		w.signalLocked()
		return nil
	}
	return w.release()
}

// Stats returns a snapshot of the worker's counters; safe from any
// goroutine.
func (w *Worker) Stats() Stats { return w.ctr.snapshot() }

// countTx counts a sent datagram of n bytes; w may be nil (Conn not added).
func (w *Worker) countTx(n int) {
	if w != nil {
		w.ctr.txPackets.Add(1)
		w.ctr.txBytes.Add(uint64(n))
	}
}

// countTxError counts a failed send; w may be nil.
func (w *Worker) countTxError() {
	if w != nil {
		w.ctr.txErrors.Add(1)
	}
}

// Hurry makes the worker's next wait for packets skip
// WorkerOptions.BatchDelay. A Handler calls it when a round answered a
// request whose client is waiting to send its next one (a request/response
// exchange such as an Allocate after its 401): delaying that exchange would
// cost the client a round trip's worth of throughput, while media, which
// does not wait for answers, gains from the delay. Call it only from
// Handler callbacks. The portable path never delays, so there it does
// nothing.
func (w *Worker) Hurry() { w.hurry = true }
