package datapath

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

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

// TestWorkerAddWrongPath: a Conn joins only a Worker of its own data path.
func TestWorkerAddWrongPath(t *testing.T) {
	for _, tt := range []struct {
		name           string
		conn, portable bool
	}{
		{"fast conn, portable worker", false, true},
		{"portable conn, fast worker", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := listen(t, loop4, ListenConfig{Portable: tt.conn})
			w, err := NewWorker(funcHandler{}, WorkerOptions{Portable: tt.portable})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if err := w.Add(c); !errors.Is(err, ErrWrongPath) {
				t.Fatalf("Add = %v, want ErrWrongPath", err)
			}
		})
	}
}
