//go:build linux

package datapath

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/avedge/avedge/internal/clock"
	"golang.org/x/sys/unix"
)

// maxEvents is the number of epoll events taken per epoll_wait(2).
const maxEvents = 128

// Worker is one packet loop: one goroutine and one epoll instance holding
// many Conns. Run drives it; Add, Remove and the Handler callbacks run on the
// worker goroutine, so the worker's state needs no locks.
type Worker struct {
	h    Handler
	tick time.Duration
	clk  clock.Clock
	// delay is WorkerOptions.BatchDelay, as nanosleep(2)'s argument.
	delay unix.Timespec
	epfd  int
	wake  int // eventfd that interrupts epoll_wait for Do, Close and ctx
	batch *batch
	txq   *txQueue
	// hurry, set by Hurry during a round, skips the next BatchDelay.
	// Worker goroutine only.
	hurry bool
	// batching is set while the loop delivers one round of ready Conns:
	// Conn.QueueTo queues then, and the loop flushes at the end of the
	// round. Worker goroutine only.
	batching bool
	// events and wakeBuf are scratch space of the loop, allocated once.
	events  []unix.EpollEvent
	wakeBuf [8]byte
	// conns maps a file descriptor to its Conn; owned by the worker goroutine.
	conns []*Conn
	doq   chan func()
	ctr   counters

	// mu orders Do, Close and the start and end of Run, and guards the
	// lifetime of epfd and wake against late signals.
	mu      sync.Mutex
	closed  bool
	running bool
	// closing mirrors closed for lock-free checks on the worker goroutine.
	closing atomic.Bool
}

// NewWorker creates a Worker that delivers to h. It allocates the epoll
// instance, the eventfd and all receive buffers (one slab of
// BatchSize × (Headroom+MaxPacket+Tailroom) bytes).
func NewWorker(h Handler, opts WorkerOptions) (*Worker, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil Handler", ErrBadOptions)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("%w: epoll_create1: %w", ErrSocket, err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("%w: eventfd: %w", ErrSocket, err), unix.Close(epfd))
	}
	w := &Worker{
		h:      h,
		tick:   opts.TickInterval,
		clk:    opts.Clock,
		delay:  unix.NsecToTimespec(int64(opts.BatchDelay)),
		epfd:   epfd,
		wake:   wake,
		batch:  newBatch(opts.BatchSize, opts.MaxPacket),
		txq:    newTxQueue(opts.TxQueue, opts.TxBuffer, !opts.DisableGSO && probeGSO()),
		events: make([]unix.EpollEvent, maxEvents),
		doq:    make(chan func(), doQueueSize),
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		return nil, errors.Join(fmt.Errorf("%w: epoll_ctl eventfd: %w", ErrSocket, err), w.release())
	}
	return w, nil
}

// Add registers c so that the worker reads it. Call it before Run, or on the
// worker goroutine (from HandlePacket, Tick or a function passed to Do); from
// any other goroutine, wrap it in Do. A Conn is added to at most one worker
// (else ErrAlreadyAdded); while added, its writes count on this worker's
// Stats.
func (w *Worker) Add(c *Conn) error {
	if w.closing.Load() || c.closed.Load() {
		return ErrClosed
	}
	if !c.worker.CompareAndSwap(nil, w) {
		return ErrAlreadyAdded
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(c.fd)}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		c.worker.Store(nil)
		return fmt.Errorf("%w: epoll_ctl add %v: %w", ErrSocket, c.local, err)
	}
	if c.fd >= len(w.conns) {
		w.conns = append(w.conns, make([]*Conn, c.fd+1-len(w.conns))...)
	}
	w.conns[c.fd] = c
	return nil
}

// Remove deregisters c: the worker stops reading it, including the rest of a
// batch being delivered when Remove is called from HandlePacket. The same
// goroutine rule as Add applies. Remove a Conn before closing it.
func (w *Worker) Remove(c *Conn) error {
	if c.fd >= len(w.conns) || w.conns[c.fd] != c {
		return ErrNotAdded
	}
	// Datagrams queued on c leave before its descriptor can be closed.
	w.flushTx()
	w.conns[c.fd] = nil
	c.worker.Store(nil)
	if w.closing.Load() {
		// The epoll instance is gone or about to be closed with its
		// registrations.
		return nil
	}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, c.fd, nil); err != nil {
		return fmt.Errorf("%w: epoll_ctl del %v: %w", ErrSocket, c.local, err)
	}
	return nil
}

// Run is the packet loop. It waits on epoll with a timeout that honours the
// next tick; for each ready Conn it reads one batch with recvmmsg(2) and calls
// HandlePacket for each datagram, then moves on to the next ready Conn
// (level-triggered: a busy socket is served again next round, so one flooded
// socket cannot starve the others). Truncated datagrams are dropped and
// counted. The goroutine is locked to its OS thread while Run runs.
//
// Run returns nil after Close, or the context's error when ctx is done; before
// returning it runs the functions already queued with Do. It closes only what
// the worker owns (its epoll and eventfd descriptors, after Close), never the
// Conns. One Run at a time (else ErrRunning); after ctx ends, Run may be
// called again.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.begin(); err != nil {
		return err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
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

// end marks the worker stopped and releases its descriptors if it was
// closed meanwhile.
func (w *Worker) end() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running = false
	if w.closed {
		return w.release()
	}
	return nil
}

// loop runs rounds of epoll_wait until Close or ctx ends.
//
// Non-blocking syscalls: a worker first polls epoll without waiting (and,
// with a BatchDelay, sleeps that long and polls again), and
// reads and writes its non-blocking sockets, with raw system calls that skip
// the Go runtime's syscall bookkeeping. Through the runtime's path, every
// such call marks the thread as in a system call, and under load sysmon keeps
// waking (nanosleep), taking the worker's P away and handing it back
// (futex): measured with strace under 500 audio calls, that was more system
// calls than the packets themselves. Only a wait that may block goes
// through unix.EpollWait, so that an idle worker gives its P back.
func (w *Worker) loop(ctx context.Context) error {
	next := time.Now().Add(w.tick)
	for {
		n, err := w.pollNow()
		if err == nil && n == 0 && w.delay.Nsec != 0 && !w.hurry {
			w.batchDelay()
			n, err = w.pollNow()
		}
		w.hurry = false
		if err == nil && n == 0 {
			n, err = unix.EpollWait(w.epfd, w.events, timeoutMillis(time.Until(next)))
		}
		if err != nil {
			if err != unix.EINTR {
				return fmt.Errorf("%w: epoll_wait: %w", ErrSocket, err)
			}
			n = 0
		}
		if stop, err := w.round(ctx, n); stop {
			return err
		}
		if now := time.Now(); !now.Before(next) {
			w.h.Tick(w.clk.Now())
			w.h.EndRound()
			next = now.Add(w.tick)
		}
	}
}

// round delivers the n ready descriptors of one epoll_wait and then sends
// what the handlers queued with Conn.QueueTo meanwhile. It reports whether
// the loop must stop (and with which error).
func (w *Worker) round(ctx context.Context, n int) (bool, error) {
	w.batching = true
	stop, err := false, error(nil)
	for i := 0; i < n && !stop; i++ {
		fd := int(w.events[i].Fd)
		switch {
		case fd == w.wake:
			stop, err = w.woken(ctx)
		case fd < len(w.conns) && w.conns[fd] != nil:
			w.serve(w.conns[fd])
		}
	}
	w.h.EndRound()
	w.flushTx()
	w.batching = false
	return stop, err
}

// flushTx sends the datagrams queued with Conn.QueueTo.
func (w *Worker) flushTx() {
	if w.txq.n > 0 {
		w.txq.flush(&w.ctr)
	}
}

// timeoutMillis converts d to an epoll_wait timeout, rounding up so that the
// loop does not wake just before the tick is due.
func timeoutMillis(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

// woken handles a signal on the eventfd: it reports whether the loop must
// stop (and with which error), else runs the queued functions.
func (w *Worker) woken(ctx context.Context) (bool, error) {
	// Reading resets the eventfd counter; EAGAIN means another round already
	// consumed the signal.
	_, _ = unix.Read(w.wake, w.wakeBuf[:])
	if w.closing.Load() {
		return true, nil
	}
	if err := ctx.Err(); err != nil {
		return true, fmt.Errorf("datapath: run: %w", err)
	}
	w.runQueued()
	return false, nil
}

// serve reads one batch from c and delivers it.
func (w *Worker) serve(c *Conn) {
	n, e := w.batch.recv(c.fd)
	if e != 0 {
		if e != unix.EAGAIN {
			w.ctr.rxErrors.Add(1)
		}
		return
	}
	if n == 0 {
		return
	}
	w.ctr.rxBatches.Add(1)
	var packets, bytes, truncatedN uint64
	drops := c.drops
	for i := range n {
		slot, size, truncated, from, ctl := w.batch.message(i)
		if ctl.hasDrops {
			drops = ctl.drops
		}
		if truncated {
			truncatedN++
			continue
		}
		packets++
		bytes += uint64(size)
		w.h.HandlePacket(c, from, slot, Headroom, size, ctl.meta)
		if c.worker.Load() != w {
			break
		}
	}
	// The counters are published once per batch; the kernel's drop count
	// is a running uint32 (it wraps), so the difference is what is new.
	w.ctr.rxPackets.Add(packets)
	w.ctr.rxBytes.Add(bytes)
	if truncatedN != 0 {
		w.ctr.rxTruncated.Add(truncatedN)
	}
	if d := drops - c.drops; d != 0 {
		w.ctr.rxDropped.Add(uint64(d))
		c.drops = drops
	}
}

// Close stops the worker: a running Run returns, and the worker's epoll and
// eventfd descriptors are closed (by Run on its way out if it is running).
// Conns are not closed, but they are deregistered, so they can be added to
// another worker. A running Run still runs the functions already queued with
// Do before it returns; without a running Run they are discarded. Close is
// idempotent and safe from any goroutine.
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

// release deregisters every Conn and closes the worker's descriptors. It
// runs once, with mu held or before the Worker is shared.
func (w *Worker) release() error {
	for fd, c := range w.conns {
		if c != nil {
			c.worker.Store(nil)
			w.conns[fd] = nil
		}
	}
	var errs []error
	for _, fd := range []int{w.wake, w.epfd} {
		if err := unix.Close(fd); err != nil {
			errs = append(errs, fmt.Errorf("%w: close: %w", ErrSocket, err))
		}
	}
	return errors.Join(errs...)
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

// countTxWouldBlock counts a send dropped on EAGAIN; w may be nil.
func (w *Worker) countTxWouldBlock() {
	if w != nil {
		w.ctr.txWouldBlock.Add(1)
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
// Handler callbacks.
func (w *Worker) Hurry() { w.hurry = true }

// batchDelay sleeps for WorkerOptions.BatchDelay. It is a raw system call
// for the reason given on loop: the sleep is short (at most MaxBatchDelay)
// and the worker's P is wanted back right after it.
func (w *Worker) batchDelay() {
	_, _, _ = unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&w.delay)), 0, 0)
	w.ctr.batchDelays.Add(1)
}

// pollNow returns the ready descriptors without waiting (epoll_wait with a
// zero timeout, which never blocks).
func (w *Worker) pollNow() (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(w.epfd),
		uintptr(unsafe.Pointer(&w.events[0])), uintptr(len(w.events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
