package datapath

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/clock"
)

func TestNewWorkerErrors(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
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
				w, err := dp.newWorker(tt.h, tt.opts)
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
	})
}

func TestWorkerEcho(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
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
				c := dp.listen(t, tt.addr, ListenConfig{})
				w, stop := dp.runWorker(t, echoHandler(), tt.opts, c)
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
				// The portable path never delays.
				if (st.BatchDelays > 0) != (tt.opts.BatchDelay > 0 && !dp.portable) {
					t.Errorf("%d batch delays with BatchDelay %v", st.BatchDelays, tt.opts.BatchDelay)
				}
				if st != want || st.RxBatches == 0 || st.RxBatches > count {
					t.Fatalf("Stats = %+v, want %+v with 1..%d batches", st, want, count)
				}
			})
		}
	})
}

func TestWorkerHeadroomTailroom(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		c := dp.listen(t, loop4, ListenConfig{})
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
		dp.runWorker(t, h, WorkerOptions{}, c)
		for i := range count {
			want := bytes.Repeat([]byte("H"), Headroom)
			want = append(want, fmt.Sprintf("payload-%02d", i)...)
			want = append(want, bytes.Repeat([]byte("T"), Tailroom)...)
			got, _ := readFrom(t, p)
			if !bytes.Equal(got, want) {
				t.Fatalf("peer got %q, want %q", got, want)
			}
		}
	})
}

func TestWorkerManySockets(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		const sockets = 64
		conns := make([]*Conn, sockets)
		byAddr := make(map[netip.AddrPort]int, sockets)
		for i := range conns {
			conns[i] = dp.listen(t, loop4, ListenConfig{})
			byAddr[conns[i].LocalAddr()] = i
		}
		dp.runWorker(t, echoHandler(), WorkerOptions{}, conns...)
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
	})
}

func TestWorkerTruncated(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		const maxPacket = 100
		c := dp.listen(t, loop4, ListenConfig{})
		sizes := make(chan int, 8)
		h := funcHandler{packet: func(_ *Conn, _ netip.AddrPort, buf []byte, off, n int) {
			if n == maxPacket && !bytes.Equal(buf[off:off+n], bytes.Repeat([]byte{'x'}, n)) {
				t.Errorf("datagram of %d bytes corrupted", n)
			}
			sizes <- n
		}}
		w, stop := dp.runWorker(t, h, WorkerOptions{MaxPacket: maxPacket}, c)
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
	})
}

func TestWorkerDoQueue(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		w, err := dp.newWorker(funcHandler{}, WorkerOptions{})
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
	})
}

func TestWorkerTick(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		clk := clock.NewFake(start)
		ticks := make(chan time.Time, 1)
		h := funcHandler{tick: func(now time.Time) {
			select {
			case ticks <- now:
			default:
			}
		}}
		dp.runWorker(t, h, WorkerOptions{TickInterval: 2 * time.Millisecond, Clock: clk}, dp.listen(t, loop4, ListenConfig{}))
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
	})
}

// TestWorkerRemove: a removed Conn is no longer read (a second Remove
// returns ErrNotAdded) while the others still are, so a datagram sent to it
// waits in its socket's queue until another worker, which it may join,
// delivers it.
func TestWorkerRemove(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		removed := dp.listen(t, loop4, ListenConfig{})
		kept := dp.listen(t, loop4, ListenConfig{})
		delivered := make(chan netip.AddrPort, 16)
		h := funcHandler{packet: func(c *Conn, _ netip.AddrPort, _ []byte, _, _ int) {
			delivered <- c.LocalAddr()
		}}
		w, stop := dp.runWorker(t, h, WorkerOptions{}, removed, kept)
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
		stop()
		if len(delivered) != 0 {
			t.Fatalf("%d more deliveries after Remove", len(delivered))
		}
		moved := make(chan string, 1)
		next := funcHandler{packet: func(_ *Conn, _ netip.AddrPort, buf []byte, off, n int) {
			moved <- string(buf[off : off+n])
		}}
		dp.runWorker(t, next, WorkerOptions{}, removed)
		select {
		case got := <-moved:
			if got != "after remove" {
				t.Fatalf("the next worker delivered %q, want %q", got, "after remove")
			}
		case <-time.After(testTimeout):
			t.Fatal("the datagram sent after Remove was lost")
		}
	})
}

func TestWorkerRemoveFromHandler(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		c := dp.listen(t, loop4, ListenConfig{})
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
		w, err := dp.newWorker(h, WorkerOptions{})
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
	})
}

func TestWorkerAddErrors(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		w1, err := dp.newWorker(funcHandler{}, WorkerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w2, err := dp.newWorker(funcHandler{}, WorkerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer w2.Close()
		c := dp.listen(t, loop4, ListenConfig{})
		closed, err := dp.listenUDP(loop4, ListenConfig{})
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
	})
}

func TestWorkerRunLifecycle(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		w, err := dp.newWorker(funcHandler{}, WorkerOptions{})
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
	})
}

func TestWorkerRunCancelledContext(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		w, err := dp.newWorker(funcHandler{}, WorkerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := w.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run(cancelled) = %v, want context.Canceled", err)
		}
	})
}

func TestStatsAdd(t *testing.T) {
	a := Stats{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	b := Stats{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150}
	if got, want := a.Add(b), (Stats{11, 22, 33, 44, 55, 66, 77, 88, 99, 110, 121, 132, 143, 154, 165}); got != want {
		t.Fatalf("Add = %+v, want %+v", got, want)
	}
}
