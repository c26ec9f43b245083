//go:build linux

package datapath

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/clock"
	"golang.org/x/sys/unix"
)

func TestNewWorkerErrors(t *testing.T) {
	tests := []struct {
		name string
		h    Handler
		opts WorkerOptions
		want error
	}{
		{"defaults", funcHandler{}, WorkerOptions{}, nil},
		{"largest", funcHandler{}, WorkerOptions{BatchSize: maxBatchSize, MaxPacket: maxPacketLimit, TickInterval: time.Millisecond}, nil},
		{"nil handler", nil, WorkerOptions{}, ErrBadOptions},
		{"tick below 1ms", funcHandler{}, WorkerOptions{TickInterval: time.Microsecond}, ErrBadOptions},
		{"negative tick", funcHandler{}, WorkerOptions{TickInterval: -time.Second}, ErrBadOptions},
		{"negative batch", funcHandler{}, WorkerOptions{BatchSize: -1}, ErrBadOptions},
		{"batch above UIO_MAXIOV", funcHandler{}, WorkerOptions{BatchSize: maxBatchSize + 1}, ErrBadOptions},
		{"negative max packet", funcHandler{}, WorkerOptions{MaxPacket: -1}, ErrBadOptions},
		{"max packet too large", funcHandler{}, WorkerOptions{MaxPacket: maxPacketLimit + 1}, ErrBadOptions},
		{"largest batch delay", funcHandler{}, WorkerOptions{BatchDelay: MaxBatchDelay}, nil},
		{"negative batch delay", funcHandler{}, WorkerOptions{BatchDelay: -time.Microsecond}, ErrBadOptions},
		{"batch delay above 1ms", funcHandler{}, WorkerOptions{BatchDelay: MaxBatchDelay + 1}, ErrBadOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWorker(tt.h, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("NewWorker error = %v, want %v", err, tt.want)
			}
			if w != nil {
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestBatchLayout(t *testing.T) {
	const size, maxPacket = 4, 100
	b := newBatch(size, maxPacket)
	stride := Headroom + maxPacket + Tailroom
	if len(b.slab) != size*stride {
		t.Fatalf("slab is %d bytes, want %d", len(b.slab), size*stride)
	}
	for i := range size {
		slot, _, _, _, _ := b.message(i)
		if len(slot) != stride || cap(slot) != stride {
			t.Fatalf("slot %d: len %d cap %d, want %d", i, len(slot), cap(slot), stride)
		}
		if &slot[0] != &b.slab[i*stride] {
			t.Fatalf("slot %d does not start at offset %d of the slab", i, i*stride)
		}
		if b.iovs[i].Base != &slot[Headroom] || b.iovs[i].Len != maxPacket {
			t.Fatalf("iovec %d does not cover slot[Headroom:Headroom+maxPacket]", i)
		}
	}
}

func TestWorkerEcho(t *testing.T) {
	tests := []struct {
		name string
		addr netip.AddrPort
		v6   bool
		opts WorkerOptions
	}{
		{"ipv4", loop4, false, WorkerOptions{}},
		{"ipv6", loop6, true, WorkerOptions{}},
		// A worker that waits before blocking still answers each packet
		// of a request/response exchange, each after an idle spell.
		{"ipv4 batch delay", loop4, false, WorkerOptions{BatchDelay: MaxBatchDelay}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.v6 {
				requireIPv6(t)
			}
			c := listen(t, tt.addr, ListenConfig{})
			w, stop := runWorker(t, echoHandler(), tt.opts, c)
			p := peer(t, tt.addr)
			const count = 10
			var bytesSent uint64
			for i := range count {
				payload := []byte(fmt.Sprintf("echo %d via %s", i, tt.name))
				bytesSent += uint64(len(payload))
				if _, err := p.WriteToUDPAddrPort(payload, c.LocalAddr()); err != nil {
					t.Fatal(err)
				}
				got, from := readFrom(t, p)
				if !bytes.Equal(got, payload) {
					t.Fatalf("echo = %q, want %q", got, payload)
				}
				if from != c.LocalAddr() {
					t.Fatalf("echo came from %v, want %v", from, c.LocalAddr())
				}
			}
			stop()
			st := w.Stats()
			want := Stats{RxPackets: count, RxBytes: bytesSent, TxPackets: count, TxBytes: bytesSent, RxBatches: st.RxBatches, BatchDelays: st.BatchDelays}
			if (st.BatchDelays > 0) != (tt.opts.BatchDelay > 0) {
				t.Errorf("%d batch delays with BatchDelay %v", st.BatchDelays, tt.opts.BatchDelay)
			}
			if st != want || st.RxBatches == 0 || st.RxBatches > count {
				t.Fatalf("Stats = %+v, want %+v with 1..%d batches", st, want, count)
			}
		})
	}
}

func TestWorkerHeadroomTailroom(t *testing.T) {
	c := listen(t, loop4, ListenConfig{})
	p := peer(t, loop4)
	// Queue a burst before the worker starts, so that one batch holds
	// several datagrams and rewriting one slot's head and tail room must
	// not disturb its neighbours.
	const count = 16
	for i := range count {
		if _, err := p.WriteToUDPAddrPort([]byte(fmt.Sprintf("payload-%02d", i)), c.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	h := funcHandler{packet: func(c *Conn, from netip.AddrPort, buf []byte, off, n int) {
		if off < Headroom || len(buf)-off-n < Tailroom {
			t.Errorf("off %d, n %d, len %d: want %d bytes of headroom and %d of tailroom", off, n, len(buf), Headroom, Tailroom)
			return
		}
		head, tail := buf[off-Headroom:off], buf[off+n:off+n+Tailroom]
		for i := range head {
			head[i] = 'H'
		}
		for i := range tail {
			tail[i] = 'T'
		}
		if err := c.WriteTo(buf[off-Headroom:off+n+Tailroom], from); err != nil {
			t.Errorf("WriteTo: %v", err)
		}
	}}
	runWorker(t, h, WorkerOptions{}, c)
	for i := range count {
		want := bytes.Repeat([]byte("H"), Headroom)
		want = append(want, fmt.Sprintf("payload-%02d", i)...)
		want = append(want, bytes.Repeat([]byte("T"), Tailroom)...)
		got, _ := readFrom(t, p)
		if !bytes.Equal(got, want) {
			t.Fatalf("peer got %q, want %q", got, want)
		}
	}
}

func TestWorkerManySockets(t *testing.T) {
	const sockets = 64
	conns := make([]*Conn, sockets)
	byAddr := make(map[netip.AddrPort]int, sockets)
	for i := range conns {
		conns[i] = listen(t, loop4, ListenConfig{})
		byAddr[conns[i].LocalAddr()] = i
	}
	runWorker(t, echoHandler(), WorkerOptions{}, conns...)
	p := peer(t, loop4)
	for i, c := range conns {
		if _, err := p.WriteToUDPAddrPort([]byte(fmt.Sprintf("to %d", i)), c.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	seen := make(map[int]bool, sockets)
	for range sockets {
		got, from := readFrom(t, p)
		i, ok := byAddr[from]
		if !ok {
			t.Fatalf("reply from unknown address %v", from)
		}
		if want := fmt.Sprintf("to %d", i); string(got) != want {
			t.Fatalf("socket %d echoed %q, want %q", i, got, want)
		}
		if seen[i] {
			t.Fatalf("socket %d echoed twice", i)
		}
		seen[i] = true
	}
}

func TestWorkerFairness(t *testing.T) {
	const batch, flood = 8, 500
	busy := listen(t, loop4, ListenConfig{RecvBuffer: 4 << 20})
	quiet := listen(t, loop4, ListenConfig{})
	p := peer(t, loop4)
	payload := make([]byte, 64)
	for range flood {
		if _, err := p.WriteToUDPAddrPort(payload, busy.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.WriteToUDPAddrPort(payload, quiet.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	var delivered int
	quietAt := make(chan int, 1)
	h := funcHandler{packet: func(c *Conn, _ netip.AddrPort, _ []byte, _, _ int) {
		delivered++
		if c == quiet {
			quietAt <- delivered
		}
	}}
	runWorker(t, h, WorkerOptions{BatchSize: batch}, busy, quiet)
	select {
	case at := <-quietAt:
		// Level-triggered rounds read one batch per ready socket, so the
		// quiet socket is served within the first round.
		if at > 2*batch {
			t.Fatalf("quiet socket served as datagram %d, want within the first round (%d)", at, 2*batch)
		}
	case <-time.After(testTimeout):
		t.Fatal("quiet socket never served")
	}
}

func TestWorkerFlood(t *testing.T) {
	const total, burst = 2000, 100
	c := listen(t, loop4, ListenConfig{RecvBuffer: 4 << 20})
	var got atomic.Uint64
	progress := make(chan struct{}, 1)
	h := funcHandler{packet: func(*Conn, netip.AddrPort, []byte, int, int) {
		got.Add(1)
		select {
		case progress <- struct{}{}:
		default:
		}
	}}
	w, stop := runWorker(t, h, WorkerOptions{}, c)
	p := peer(t, loop4)
	payload := make([]byte, 160)
	deadline := time.After(testTimeout)
	// Kernel drops are counted while sendto runs or in a later softirq;
	// re-check them periodically in case no further datagram arrives.
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for sent := burst; sent <= total; sent += burst {
		for range burst {
			if _, err := p.WriteToUDPAddrPort(payload, c.LocalAddr()); err != nil {
				t.Fatal(err)
			}
		}
		for got.Load()+kernelDrops(t, c) < uint64(sent) {
			select {
			case <-progress:
			case <-poll.C:
			case <-deadline:
				t.Fatalf("after %d sent: %d delivered, %d dropped by the kernel", sent, got.Load(), kernelDrops(t, c))
			}
		}
	}
	stop()
	delivered, dropped := got.Load(), kernelDrops(t, c)
	if delivered+dropped != total {
		t.Fatalf("delivered %d + dropped %d != sent %d", delivered, dropped, total)
	}
	st := w.Stats()
	if st.RxPackets != delivered || st.RxBytes != delivered*uint64(len(payload)) {
		t.Fatalf("Stats = %+v, want %d packets of %d bytes", st, delivered, len(payload))
	}
	t.Logf("delivered %d in %d batches, kernel dropped %d", delivered, st.RxBatches, dropped)
}

func TestWorkerTruncated(t *testing.T) {
	const maxPacket = 100
	c := listen(t, loop4, ListenConfig{})
	sizes := make(chan int, 8)
	h := funcHandler{packet: func(_ *Conn, _ netip.AddrPort, buf []byte, off, n int) {
		if n == maxPacket && !bytes.Equal(buf[off:off+n], bytes.Repeat([]byte{'x'}, n)) {
			t.Errorf("datagram of %d bytes corrupted", n)
		}
		sizes <- n
	}}
	w, stop := runWorker(t, h, WorkerOptions{MaxPacket: maxPacket}, c)
	p := peer(t, loop4)
	for _, n := range []int{maxPacket, maxPacket + 1, 1000, 50} {
		if _, err := p.WriteToUDPAddrPort(bytes.Repeat([]byte{'x'}, n), c.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []int{maxPacket, 50} {
		select {
		case n := <-sizes:
			if n != want {
				t.Fatalf("delivered %d bytes, want %d (truncated datagrams must be dropped)", n, want)
			}
		case <-time.After(testTimeout):
			t.Fatalf("datagram of %d bytes not delivered", want)
		}
	}
	stop()
	st := w.Stats()
	if st.RxTruncated != 2 || st.RxPackets != 2 || st.RxBytes != maxPacket+50 {
		t.Fatalf("Stats = %+v, want 2 truncated and 2 delivered (%d bytes)", st, maxPacket+50)
	}
}

func TestWorkerDoRunsOnWorkerGoroutine(t *testing.T) {
	first := listen(t, loop4, ListenConfig{})
	late := listen(t, loop4, ListenConfig{})
	var packetTid atomic.Int64
	tickTid := make(chan int, 1)
	h := echoHandler()
	echo := h.packet
	h.packet = func(c *Conn, from netip.AddrPort, buf []byte, off, n int) {
		packetTid.Store(int64(unix.Gettid()))
		echo(c, from, buf, off, n)
	}
	h.tick = func(time.Time) {
		select {
		case tickTid <- unix.Gettid():
		default:
		}
	}
	w, _ := runWorker(t, h, WorkerOptions{TickInterval: time.Millisecond}, first)
	var doTid int
	var addErr error
	// Add is only allowed on the worker goroutine once Run is active.
	onWorker(t, w, func() {
		doTid = unix.Gettid()
		addErr = w.Add(late)
	})
	if addErr != nil {
		t.Fatalf("Add from Do: %v", addErr)
	}
	p := peer(t, loop4)
	if _, err := p.WriteToUDPAddrPort([]byte("late"), late.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if got, from := readFrom(t, p); string(got) != "late" || from != late.LocalAddr() {
		t.Fatalf("echo %q from %v, want %q from %v", got, from, "late", late.LocalAddr())
	}
	var tick int
	select {
	case tick = <-tickTid:
	case <-time.After(testTimeout):
		t.Fatal("no Tick")
	}
	if doTid == 0 || int64(doTid) != packetTid.Load() || doTid != tick {
		t.Fatalf("thread ids: Do %d, HandlePacket %d, Tick %d; want one worker thread", doTid, packetTid.Load(), tick)
	}
}

func TestWorkerDoQueue(t *testing.T) {
	w, err := NewWorker(funcHandler{}, WorkerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	done := make(chan struct{})
	for i := range doQueueSize {
		fn := func() { ran++ }
		if i == doQueueSize-1 {
			fn = func() { ran++; close(done) }
		}
		if err := w.Do(fn); err != nil {
			t.Fatalf("Do #%d: %v", i, err)
		}
	}
	if err := w.Do(func() {}); !errors.Is(err, ErrBusy) {
		t.Fatalf("Do on a full queue = %v, want ErrBusy", err)
	}
	if err := w.Do(nil); !errors.Is(err, ErrBadOptions) {
		t.Fatalf("Do(nil) = %v, want ErrBadOptions", err)
	}
	runDone := make(chan error, 1)
	go func() { runDone <- w.Run(context.Background()) }()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatal("queued functions did not run")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-runDone:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Run did not return")
	}
	if ran != doQueueSize {
		t.Fatalf("%d functions ran, want %d", ran, doQueueSize)
	}
	if err := w.Do(func() {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Do after Close = %v, want ErrClosed", err)
	}
}

func TestWorkerTick(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := clock.NewFake(start)
	ticks := make(chan time.Time, 1)
	h := funcHandler{tick: func(now time.Time) {
		select {
		case ticks <- now:
		default:
		}
	}}
	runWorker(t, h, WorkerOptions{TickInterval: 2 * time.Millisecond, Clock: clk}, listen(t, loop4, ListenConfig{}))
	next := func() time.Time {
		t.Helper()
		select {
		case now := <-ticks:
			return now
		case <-time.After(testTimeout):
			t.Fatal("no Tick")
			return time.Time{}
		}
	}
	if got := next(); !got.Equal(start) {
		t.Fatalf("Tick(%v), want the injected clock's %v", got, start)
	}
	later := start.Add(time.Hour)
	clk.Advance(time.Hour)
	for {
		got := next()
		if got.Equal(later) {
			break
		}
		if !got.Equal(start) {
			t.Fatalf("Tick(%v), want %v or %v", got, start, later)
		}
	}
}

func TestWorkerRemove(t *testing.T) {
	removed := listen(t, loop4, ListenConfig{})
	kept := listen(t, loop4, ListenConfig{})
	delivered := make(chan netip.AddrPort, 16)
	h := funcHandler{packet: func(c *Conn, _ netip.AddrPort, _ []byte, _, _ int) {
		delivered <- c.LocalAddr()
	}}
	w, stop := runWorker(t, h, WorkerOptions{}, removed, kept)
	var first, second error
	onWorker(t, w, func() {
		first = w.Remove(removed)
		second = w.Remove(removed)
	})
	if first != nil || !errors.Is(second, ErrNotAdded) {
		t.Fatalf("Remove = %v then %v, want nil then ErrNotAdded", first, second)
	}
	p := peer(t, loop4)
	for _, to := range []netip.AddrPort{removed.LocalAddr(), kept.LocalAddr()} {
		if _, err := p.WriteToUDPAddrPort([]byte("after remove"), to); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case got := <-delivered:
		if got != kept.LocalAddr() {
			t.Fatalf("delivered on %v after Remove", got)
		}
	case <-time.After(testTimeout):
		t.Fatal("kept socket not served")
	}
	// The datagram for the removed socket waits, unread, in its queue.
	fds := []unix.PollFd{{Fd: int32(removed.fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, int(testTimeout/time.Millisecond)); n != 1 || err != nil {
		t.Fatalf("poll removed socket: %d, %v", n, err)
	}
	buf := make([]byte, 64)
	n, _, err := unix.Recvfrom(removed.fd, buf, unix.MSG_DONTWAIT)
	if err != nil || string(buf[:n]) != "after remove" {
		t.Fatalf("removed socket queue: %q, %v", buf[:n], err)
	}
	stop()
	if len(delivered) != 0 {
		t.Fatalf("%d more deliveries after Remove", len(delivered))
	}
	// A removed Conn may join another worker.
	other, err := NewWorker(funcHandler{}, WorkerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Add(removed); err != nil {
		t.Fatalf("Add to another worker after Remove: %v", err)
	}
}

func TestWorkerRemoveFromHandler(t *testing.T) {
	c := listen(t, loop4, ListenConfig{})
	p := peer(t, loop4)
	for range 3 {
		if _, err := p.WriteToUDPAddrPort([]byte("x"), c.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	var w *Worker
	calls := make(chan error, 3)
	h := funcHandler{packet: func(c *Conn, _ netip.AddrPort, _ []byte, _, _ int) {
		calls <- w.Remove(c)
	}}
	w, err := NewWorker(h, WorkerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(c); err != nil {
		t.Fatal(err)
	}
	stop := startWorker(t, w)
	select {
	case err := <-calls:
		if err != nil {
			t.Fatalf("Remove from HandlePacket: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("nothing delivered")
	}
	stop()
	if len(calls) != 0 {
		t.Fatalf("%d datagrams delivered after the handler removed the Conn", len(calls))
	}
}

func TestWorkerAddErrors(t *testing.T) {
	w1, err := NewWorker(funcHandler{}, WorkerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w2, err := NewWorker(funcHandler{}, WorkerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	c := listen(t, loop4, ListenConfig{})
	closed, err := ListenUDP(loop4, ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"add", func() error { return w1.Add(c) }, nil},
		{"add again", func() error { return w1.Add(c) }, ErrAlreadyAdded},
		{"add to a second worker", func() error { return w2.Add(c) }, ErrAlreadyAdded},
		{"remove from the wrong worker", func() error { return w2.Remove(c) }, ErrNotAdded},
		{"add a closed conn", func() error { return w1.Add(closed) }, ErrClosed},
		{"close the first worker", w1.Close, nil},
		{"add to a closed worker", func() error { return w1.Add(c) }, ErrClosed},
		{"closing deregistered the conn", func() error { return w2.Add(c) }, nil},
		{"remove", func() error { return w2.Remove(c) }, nil},
	}
	for _, s := range steps {
		if err := s.do(); !errors.Is(err, s.want) {
			t.Fatalf("%s: %v, want %v", s.name, err, s.want)
		}
	}
}

func TestWorkerRunLifecycle(t *testing.T) {
	w, err := NewWorker(funcHandler{}, WorkerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wait := func(done <-chan error) error {
		t.Helper()
		select {
		case err := <-done:
			return err
		case <-time.After(testTimeout):
			t.Fatal("Run did not return")
			return nil
		}
	}
	// A cancelled context stops Run, which may then run again.
	for round := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		onWorker(t, w, func() {})
		if err := w.Run(context.Background()); !errors.Is(err, ErrRunning) {
			t.Fatalf("second concurrent Run = %v, want ErrRunning", err)
		}
		cancel()
		if err := wait(done); !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: Run after cancel = %v, want context.Canceled", round, err)
		}
	}
	// Close stops Run with nil.
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	onWorker(t, w, func() {})
	for range 2 {
		if err := w.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if err := wait(done); err != nil {
		t.Fatalf("Run after Close = %v, want nil", err)
	}
	if err := w.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Run after Close = %v, want ErrClosed", err)
	}
}

func TestWorkerRunCancelledContext(t *testing.T) {
	w, err := NewWorker(funcHandler{}, WorkerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run(cancelled) = %v, want context.Canceled", err)
	}
}

func TestStatsAdd(t *testing.T) {
	a := Stats{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	b := Stats{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150}
	if got, want := a.Add(b), (Stats{11, 22, 33, 44, 55, 66, 77, 88, 99, 110, 121, 132, 143, 154, 165}); got != want {
		t.Fatalf("Add = %+v, want %+v", got, want)
	}
}

// TestReceivePathAllocs delivers 1000 datagrams, each marked with a TOS
// byte that the worker reads from its control message, through a running
// worker and checks that the process allocates (almost) nothing meanwhile.
func TestReceivePathAllocs(t *testing.T) {
	const burst, bursts = 50, 20
	c := listen(t, loop4, ListenConfig{RecvBuffer: 4 << 20, RecvTOS: true})
	src := listen(t, loop4, ListenConfig{})
	var got, target, badTOS atomic.Uint64
	reached := make(chan struct{}, 1)
	h := funcHandler{packetMeta: func(_ *Conn, _ netip.AddrPort, _ []byte, _, _ int, meta Meta) {
		if meta.TOS != 0xB8 {
			badTOS.Add(1)
		}
		if got.Add(1) == target.Load() {
			select {
			case reached <- struct{}{}:
			default:
			}
		}
	}}
	runWorker(t, h, WorkerOptions{}, c)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	payload := make([]byte, 200)
	var sendErr error
	sendBurst := func() bool {
		target.Store(got.Load() + burst)
		for range burst {
			if err := src.WriteToTOS(payload, c.LocalAddr(), 0xB8); err != nil {
				sendErr = err
				return false
			}
		}
		select {
		case <-reached:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if !sendBurst() { // warm up
		t.Fatalf("warm-up burst: %d delivered, send error %v", got.Load(), sendErr)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range bursts {
		if !sendBurst() {
			t.Fatalf("%d delivered, send error %v", got.Load(), sendErr)
		}
	}
	runtime.ReadMemStats(&after)
	mallocs := after.Mallocs - before.Mallocs
	t.Logf("%d allocations for %d datagrams", mallocs, burst*bursts)
	if mallocs > 50 {
		t.Fatalf("%d allocations while delivering %d datagrams, want about 0 per datagram", mallocs, burst*bursts)
	}
	if n := badTOS.Load(); n != 0 {
		t.Fatalf("%d datagrams delivered without their TOS byte", n)
	}
}

func TestTimeoutMillis(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int
	}{
		{-time.Second, 0},
		{0, 0},
		{time.Nanosecond, 1},
		{time.Millisecond, 1},
		{time.Millisecond + 1, 2},
		{250 * time.Millisecond, 250},
	}
	for _, tt := range tests {
		if got := timeoutMillis(tt.d); got != tt.want {
			t.Errorf("timeoutMillis(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}

// TestWorkerHurry: a worker with a BatchDelay waits after every round of a
// request/response exchange, unless its Handler calls Hurry in the round.
func TestWorkerHurry(t *testing.T) {
	for _, hurry := range []bool{false, true} {
		t.Run(fmt.Sprintf("hurry %v", hurry), func(t *testing.T) {
			c := listen(t, loop4, ListenConfig{})
			h := funcHandler{packet: func(c *Conn, from netip.AddrPort, buf []byte, off, n int) {
				if hurry {
					c.worker.Load().Hurry()
				}
				_ = c.WriteTo(buf[off:off+n], from)
			}}
			// No tick during the test: a tick's round is not an exchange.
			w, _ := runWorker(t, h, WorkerOptions{BatchDelay: MaxBatchDelay, TickInterval: time.Hour}, c)
			p := peer(t, loop4)
			exchange := func() {
				if _, err := p.WriteToUDPAddrPort([]byte("request"), c.LocalAddr()); err != nil {
					t.Fatal(err)
				}
				readFrom(t, p)
			}
			// The first exchange shows the worker running, past the wait
			// it may take before it first blocks.
			exchange()
			before := w.Stats().BatchDelays
			const count = 10
			for range count {
				exchange()
			}
			delays := w.Stats().BatchDelays - before
			switch {
			case hurry && delays != 0:
				t.Fatalf("%d batch delays after %d hurried exchanges, want 0", delays, count)
			case !hurry && delays == 0:
				// A request that arrives before the worker looks again is
				// read without a wait, so not every round is followed by one.
				t.Fatalf("no batch delay after %d exchanges", count)
			}
		})
	}
}
