package datapath

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// portable is the state of a Worker on the portable data path: a reader
// goroutine per Conn reads one datagram per call into a receive buffer and
// hands it over on rx; the worker goroutine delivers what rx holds in
// rounds of up to batch datagrams and puts the buffers back into free.
//
// Buffers are bounded: each reader holds one while it waits in a read, rx
// holds at most cap(rx), and free keeps at most cap(free) spare ones, so
// that a worker with n Conns never holds more than n+cap(rx)+cap(free).
// NewWorker fills free with BatchSize of them and Add puts in one for each
// reader (while free has room), so that the readers take their buffers from
// free and the path does not allocate; more are allocated only when free
// runs dry.
type portable struct {
	rx   chan rxPacket
	free chan []byte
	// wake interrupts the loop's wait for Do, Close and ctx.
	wake      chan struct{}
	batch     int
	maxPacket int
	txq       portableQueue
	// readers holds the reader of each added Conn; worker goroutine only
	// (or before Run).
	readers map[*Conn]*reader
}

// rxPacket is one datagram read by a reader: buf[Headroom:Headroom+n].
type rxPacket struct {
	c    *Conn
	r    *reader
	buf  []byte
	n    int
	from netip.AddrPort
}

// reader is the goroutine that reads one Conn for one Worker, from Add to
// Remove (or the worker's Close).
type reader struct {
	stop chan struct{} // closed to end the goroutine
	done chan struct{} // closed when the goroutine has ended
}

// readBackoff is how long a reader waits after its nth read failure in a
// row: nothing after a single one (a one-off ICMP error), then 1 ms,
// doubling up to 100 ms.
func readBackoff(n int) time.Duration {
	if n < 2 {
		return 0
	}
	return min(time.Millisecond<<min(n-2, 7), 100*time.Millisecond)
}

// pause waits d unless r is told to stop meanwhile; it reports whether r
// is still to run.
func (r *reader) pause(d time.Duration) bool {
	if d <= 0 {
		return !r.stopped()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.stop:
		return false
	case <-t.C:
		return true
	}
}

// stopped reports whether r was told to stop.
func (r *reader) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// initPortable sets up the portable data path with BatchSize receive
// buffers in the pool; Add puts in one more per reader.
func (w *Worker) initPortable(opts WorkerOptions) {
	p := &portable{
		rx:        make(chan rxPacket, opts.BatchSize),
		free:      make(chan []byte, 2*opts.BatchSize),
		wake:      make(chan struct{}, 1),
		batch:     opts.BatchSize,
		maxPacket: opts.MaxPacket,
		txq:       newPortableQueue(opts.TxQueue, opts.TxBuffer),
		readers:   make(map[*Conn]*reader),
	}
	for range opts.BatchSize {
		p.free <- p.newBuffer()
	}
	w.port = p
}

// newBuffer allocates one receive buffer: Headroom, MaxPacket and
// Tailroom bytes.
func (p *portable) newBuffer() []byte {
	return make([]byte, Headroom+p.maxPacket+Tailroom)
}

// buffer takes a receive buffer from the pool, or allocates one when the
// pool is empty.
func (p *portable) buffer() []byte {
	select {
	case b := <-p.free:
		return b
	default:
		return p.newBuffer()
	}
}

// recycle puts a receive buffer back into the pool, or leaves it to the
// garbage collector when the pool is full.
func (p *portable) recycle(b []byte) {
	select {
	case p.free <- b:
	default:
	}
}

// addPortable starts the reader of c. A reader that a Remove stopped ends
// first, so that two never read one socket.
func (w *Worker) addPortable(c *Conn) error {
	if old := c.reader; old != nil {
		<-old.done
	}
	if err := c.udp.SetReadDeadline(time.Time{}); err != nil {
		return fmt.Errorf("%w: clear read deadline on %v: %w", ErrSocket, c.local, err)
	}
	if len(w.port.free) < cap(w.port.free) {
		w.port.recycle(w.port.newBuffer())
	}
	r := &reader{stop: make(chan struct{}), done: make(chan struct{})}
	c.reader = r
	w.port.readers[c] = r
	go w.port.read(c, r, &w.ctr)
	return nil
}

// removePortable sends what is queued on c, stops its reader and
// deregisters it.
func (w *Worker) removePortable(c *Conn) error {
	r, ok := w.port.readers[c]
	if !ok {
		return ErrNotAdded
	}
	w.flushPortable()
	delete(w.port.readers, c)
	c.worker.Store(nil)
	return stopReader(c, r)
}

// stopReader tells r to end and interrupts its read with a deadline in the
// past; it does not wait.
func stopReader(c *Conn, r *reader) error {
	close(r.stop)
	if err := c.udp.SetReadDeadline(time.Unix(1, 0)); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("%w: interrupt read on %v: %w", ErrSocket, c.local, err)
	}
	return nil
}

// releasePortable stops every reader and deregisters its Conn. It runs
// once, with mu held or before the Worker is shared.
func (w *Worker) releasePortable() error {
	var errs []error
	for c, r := range w.port.readers {
		c.worker.Store(nil)
		errs = append(errs, stopReader(c, r))
	}
	clear(w.port.readers)
	return errors.Join(errs...)
}

// read is the reader goroutine of c: it reads one datagram per call, one
// byte beyond MaxPacket so that a longer one shows, and hands each to the
// worker until r is stopped or c closed. A failed read is counted on ctr;
// failures in a row back off (see readBackoff), so an error that keeps
// coming back cannot spin a core.
func (p *portable) read(c *Conn, r *reader, ctr *counters) {
	defer close(r.done)
	failures := 0
	for {
		buf := p.buffer()
		n, from, err := c.udp.ReadFromUDPAddrPort(buf[Headroom : Headroom+p.maxPacket+1])
		if r.stopped() || errors.Is(err, net.ErrClosed) {
			p.recycle(buf)
			return
		}
		if err != nil {
			// For example an ICMP error reported on the socket (Windows
			// reports port unreachable as WSAECONNRESET).
			ctr.rxErrors.Add(1)
			p.recycle(buf)
			failures++
			if !r.pause(readBackoff(failures)) {
				return
			}
			continue
		}
		failures = 0
		if from.Addr().Is4In6() {
			from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		}
		select {
		case p.rx <- rxPacket{c: c, r: r, buf: buf, n: n, from: from}:
		case <-r.stop:
			p.recycle(buf)
			return
		}
	}
}

// loopPortable runs rounds until Close or ctx ends: it waits for a
// datagram, a wake-up or the next tick.
func (w *Worker) loopPortable(ctx context.Context) error {
	p := w.port
	tick := time.NewTimer(w.tick)
	defer tick.Stop()
	for {
		select {
		case pkt := <-p.rx:
			w.batching = true
			w.roundPortable(pkt)
			w.batching = false
		case <-p.wake:
			w.batching = true
			stop, err := w.stopping(ctx)
			w.h.EndRound()
			w.flushPortable()
			w.batching = false
			if stop {
				return err
			}
		case <-tick.C:
			w.h.Tick(w.clk.Now())
			w.h.EndRound()
			tick.Reset(w.tick)
		}
	}
}

// roundPortable delivers pkt and up to batch-1 more datagrams that are
// already waiting, then sends what the handlers queued meanwhile.
func (w *Worker) roundPortable(pkt rxPacket) {
	p := w.port
	var packets, bytes, truncated uint64
	for i := 1; ; i++ {
		switch {
		case pkt.c.worker.Load() != w || pkt.r.stopped():
			// Read before its Conn was removed.
		case pkt.n > p.maxPacket:
			truncated++
		default:
			packets++
			bytes += uint64(pkt.n)
			end := Headroom + p.maxPacket + Tailroom
			w.h.HandlePacket(pkt.c, pkt.from, pkt.buf[:end:end], Headroom, pkt.n, Meta{})
		}
		p.recycle(pkt.buf)
		var more bool
		if i == p.batch {
			break
		}
		if pkt, more = p.poll(); !more {
			break
		}
	}
	// The counters are published once per round.
	if packets != 0 {
		w.ctr.rxBatches.Add(1)
		w.ctr.rxPackets.Add(packets)
		w.ctr.rxBytes.Add(bytes)
	}
	if truncated != 0 {
		w.ctr.rxTruncated.Add(truncated)
	}
	w.h.EndRound()
	w.flushPortable()
}

// poll returns a datagram that waits on rx, if any, without waiting.
func (p *portable) poll() (rxPacket, bool) {
	select {
	case pkt := <-p.rx:
		return pkt, true
	default:
		return rxPacket{}, false
	}
}

// flushPortable sends the datagrams queued with Conn.QueueTo.
func (w *Worker) flushPortable() {
	if w.port.txq.n > 0 {
		w.port.txq.flush(&w.ctr)
	}
}

// wakePortable interrupts the loop's wait.
func (w *Worker) wakePortable() {
	select {
	case w.port.wake <- struct{}{}:
	default:
	}
}
