package datapath

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxEvents is the number of epoll events taken per epoll_wait(2).
const maxEvents = 128

// epollWorker is the state of a Worker on Linux's fast path: one epoll
// instance holding many Conns, read in batches with recvmmsg(2).
type epollWorker struct {
	// delay is WorkerOptions.BatchDelay, as nanosleep(2)'s argument.
	delay unix.Timespec
	epfd  int
	wake  int // eventfd that interrupts epoll_wait for Do, Close and ctx
	batch *batch
	txq   *txQueue
	// events and wakeBuf are scratch space of the loop, allocated once.
	events  []unix.EpollEvent
	wakeBuf [8]byte
	// conns maps a file descriptor to its Conn; owned by the worker goroutine.
	conns []*Conn
}

// initEpoll allocates the epoll instance, the eventfd and the receive and
// send buffers of the fast path.
func (w *Worker) initEpoll(opts WorkerOptions) error {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("%w: epoll_create1: %w", ErrSocket, err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return errors.Join(fmt.Errorf("%w: eventfd: %w", ErrSocket, err), unix.Close(epfd))
	}
	w.fastWorker = epollWorker{
		delay:  unix.NsecToTimespec(int64(opts.BatchDelay)),
		epfd:   epfd,
		wake:   wake,
		batch:  newBatch(opts.BatchSize, opts.MaxPacket),
		txq:    newTxQueue(opts.TxQueue, opts.TxBuffer, !opts.DisableGSO && probeGSO()),
		events: make([]unix.EpollEvent, maxEvents),
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		return errors.Join(fmt.Errorf("%w: epoll_ctl eventfd: %w", ErrSocket, err), w.releaseEpoll())
	}
	return nil
}

// addEpoll registers c with the epoll instance.
func (w *Worker) addEpoll(c *Conn) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(c.fd)}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		return fmt.Errorf("%w: epoll_ctl add %v: %w", ErrSocket, c.local, err)
	}
	if c.fd >= len(w.conns) {
		w.conns = append(w.conns, make([]*Conn, c.fd+1-len(w.conns))...)
	}
	w.conns[c.fd] = c
	return nil
}

// removeEpoll deregisters c from the epoll instance.
func (w *Worker) removeEpoll(c *Conn) error {
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

// loopEpoll runs rounds of epoll_wait until Close or ctx ends. The
// goroutine is locked to its OS thread meanwhile.
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
func (w *Worker) loopEpoll(ctx context.Context) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
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
	return w.stopping(ctx)
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

// releaseEpoll deregisters every Conn and closes the worker's descriptors.
// It runs once, with mu held or before the Worker is shared.
func (w *Worker) releaseEpoll() error {
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

// batchDelay sleeps for WorkerOptions.BatchDelay. It is a raw system call
// for the reason given on loopEpoll: the sleep is short (at most MaxBatchDelay)
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

// wakeEpoll interrupts epoll_wait through the eventfd.
func (w *Worker) wakeEpoll() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	// The write fails only if the counter would overflow, which takes 2^64
	// unread signals; the loop is awake then anyway.
	_, _ = unix.Write(w.wake, one[:])
}
