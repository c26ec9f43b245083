package datapath

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
)

// numbered returns a datagram of size bytes (at least 4) starting with i.
func numbered(i, size int) []byte {
	b := make([]byte, size)
	binary.BigEndian.PutUint32(b, uint32(i))
	return b
}

// trigger sends one datagram to c so that its worker runs a round.
func trigger(t testing.TB, c *Conn) {
	t.Helper()
	src := peer(t, loop4)
	if _, err := src.WriteToUDPAddrPort([]byte("go"), c.LocalAddr()); err != nil {
		t.Fatal(err)
	}
}

// expectNumbered reads count datagrams from sink and checks that they are
// numbered 0..count-1 in order and have the sizes size(i).
func expectNumbered(t testing.TB, sink interface {
	ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error)
}, count int, size func(i int) int) {
	t.Helper()
	buf := make([]byte, 70000)
	for i := range count {
		n, _, err := sink.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("datagram %d of %d: %v", i, count, err)
		}
		if n != size(i) || binary.BigEndian.Uint32(buf) != uint32(i) {
			t.Fatalf("datagram %d: got number %d, %d bytes; want %d bytes", i, binary.BigEndian.Uint32(buf), n, size(i))
		}
	}
}

func TestQueueToBatches(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		const size = 300
		tests := []struct {
			name        string
			opts        WorkerOptions
			count       int
			sizeOf      func(i int) int
			wantBatches uint64
		}{
			{"one sendmmsg", WorkerOptions{TxQueue: 128}, 100, func(int) int { return size }, 1},
			{"flush on full queue", WorkerOptions{TxQueue: 8}, 20, func(int) int { return size }, 3},
			{"flush on full slab", WorkerOptions{TxBuffer: 3 * size}, 10, func(int) int { return size }, 4},
			{"larger than the slab goes at once, in order", WorkerOptions{TxBuffer: 1000},
				5, func(i int) int { return []int{size, 2000, size, size, 2000}[i] }, 2},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := dp.listen(t, loop4, ListenConfig{})
				sink := peer(t, loop4)
				to := netip.MustParseAddrPort(sink.LocalAddr().String())
				errs := make(chan error, tt.count)
				h := funcHandler{packet: func(c *Conn, _ netip.AddrPort, _ []byte, _, _ int) {
					for i := range tt.count {
						errs <- c.QueueTo(numbered(i, tt.sizeOf(i)), to, 0)
					}
				}}
				w, stop := dp.runWorker(t, h, tt.opts, c)
				trigger(t, c)
				expectNumbered(t, sink, tt.count, tt.sizeOf)
				for range tt.count {
					if err := <-errs; err != nil {
						t.Fatalf("QueueTo: %v", err)
					}
				}
				stop()
				st := w.Stats()
				if st.TxPackets != uint64(tt.count) || st.TxBatches != tt.wantBatches || st.TxErrors != 0 {
					t.Fatalf("Stats: %d packets in %d batches (%d errors), want %d in %d", st.TxPackets, st.TxBatches,
						st.TxErrors, tt.count, tt.wantBatches)
				}
			})
		}
	})
}

// TestQueueToSockets queues datagrams alternately on two sockets: each
// socket's datagrams leave in order, one sendmmsg per socket on the fast
// path.
func TestQueueToSockets(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		const count = 10
		a, b := dp.listen(t, loop4, ListenConfig{}), dp.listen(t, loop4, ListenConfig{})
		sinkA, sinkB := peer(t, loop4), peer(t, loop4)
		toA := netip.MustParseAddrPort(sinkA.LocalAddr().String())
		toB := netip.MustParseAddrPort(sinkB.LocalAddr().String())
		h := funcHandler{packet: func(*Conn, netip.AddrPort, []byte, int, int) {
			for i := range count {
				_ = a.QueueTo(numbered(i, 100), toA, 0)
				_ = b.QueueTo(numbered(i, 200), toB, 0)
			}
		}}
		w, stop := dp.runWorker(t, h, WorkerOptions{}, a, b)
		trigger(t, a)
		expectNumbered(t, sinkA, count, func(int) int { return 100 })
		expectNumbered(t, sinkB, count, func(int) int { return 200 })
		stop()
		// The portable path sends both sockets' datagrams in one flush.
		batches := uint64(2)
		if dp.portable {
			batches = 1
		}
		if st := w.Stats(); st.TxPackets != 2*count || st.TxBatches != batches {
			t.Fatalf("Stats: %d packets in %d batches, want %d in %d", st.TxPackets, st.TxBatches, 2*count, batches)
		}
	})
}

// TestQueueToErrors checks that a datagram the kernel refuses is counted
// and skipped without losing the others, and that errors known before
// queueing are returned.
func TestQueueToErrors(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		c := dp.listen(t, loop4, ListenConfig{})
		sink := peer(t, loop4)
		to := netip.MustParseAddrPort(sink.LocalAddr().String())
		portZero := netip.AddrPortFrom(to.Addr(), 0) // sendmsg fails with EINVAL
		v6 := netip.MustParseAddrPort("[2001:db8::1]:9")
		var badFamily atomic.Value
		h := funcHandler{packet: func(c *Conn, _ netip.AddrPort, _ []byte, _, _ int) {
			_ = c.QueueTo(numbered(0, 50), to, 0)
			_ = c.QueueTo(numbered(7, 50), portZero, 0)
			_ = c.QueueTo(numbered(1, 50), to, 0xB8)
			badFamily.Store(c.QueueTo(numbered(9, 50), v6, 0))
		}}
		w, stop := dp.runWorker(t, h, WorkerOptions{}, c)
		trigger(t, c)
		expectNumbered(t, sink, 2, func(int) int { return 50 })
		stop()
		if err, _ := badFamily.Load().(error); !errors.Is(err, ErrBadAddress) {
			t.Fatalf("QueueTo to an IPv6 address on an IPv4 socket = %v, want ErrBadAddress", err)
		}
		if st := w.Stats(); st.TxPackets != 2 || st.TxErrors != 2 {
			t.Fatalf("Stats: %d packets, %d errors; want 2 and 2 (EINVAL, wrong family)", st.TxPackets, st.TxErrors)
		}
	})
}

// TestQueueToControlPath checks that QueueTo works from a function passed
// to Do (queued for the end of the round that runs it) and sends at once
// on a Conn without a worker.
func TestQueueToControlPath(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		c := dp.listen(t, loop4, ListenConfig{})
		lone := dp.listen(t, loop4, ListenConfig{})
		sink := peer(t, loop4)
		to := netip.MustParseAddrPort(sink.LocalAddr().String())
		w, stop := dp.runWorker(t, funcHandler{}, WorkerOptions{}, c)
		var err error
		onWorker(t, w, func() { err = c.QueueTo(numbered(0, 10), to, 0) })
		if err != nil {
			t.Fatalf("QueueTo from Do: %v", err)
		}
		// The two sockets' datagrams may reach the sink in either order.
		expectNumbered(t, sink, 1, func(int) int { return 10 })
		if err := lone.QueueTo(numbered(0, 10), to, 0); err != nil {
			t.Fatalf("QueueTo without a worker: %v", err)
		}
		expectNumbered(t, sink, 1, func(int) int { return 10 })
		stop()
		if st := w.Stats(); st.TxPackets != 1 {
			t.Fatalf("Stats: %d packets, want 1", st.TxPackets)
		}
	})
}

// TestRemoveFlushesQueue removes and closes a Conn right after queueing on
// it, as the server does when an allocation ends: the queued datagram
// leaves first.
func TestRemoveFlushesQueue(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		c := dp.listen(t, loop4, ListenConfig{})
		relay, err := dp.listenUDP(loop4, ListenConfig{})
		if err != nil {
			t.Fatal(err)
		}
		sink := peer(t, loop4)
		to := netip.MustParseAddrPort(sink.LocalAddr().String())
		removed := make(chan error, 1)
		var w *Worker
		h := funcHandler{packet: func(*Conn, netip.AddrPort, []byte, int, int) {
			_ = relay.QueueTo([]byte("last words"), to, 0)
			removed <- errors.Join(w.Remove(relay), relay.Close())
		}}
		w, err = dp.newWorker(h, WorkerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, conn := range []*Conn{c, relay} {
			if err := w.Add(conn); err != nil {
				t.Fatal(err)
			}
		}
		startWorker(t, w)
		trigger(t, c)
		if err := <-removed; err != nil {
			t.Fatalf("Remove, Close: %v", err)
		}
		if got, _ := readFrom(t, sink); !bytes.Equal(got, []byte("last words")) {
			t.Fatalf("sink got %q", got)
		}
	})
}

// TestQueueToAllocs echoes 1000 datagrams through a running worker with
// QueueTo and sendmmsg, to a second worker that counts them, and checks
// that the process allocates (almost) nothing meanwhile.
func TestQueueToAllocs(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		const burst, bursts = 50, 20
		c := dp.listen(t, loop4, ListenConfig{RecvBuffer: 4 << 20, RecvTOS: true})
		src := dp.listen(t, loop4, ListenConfig{RecvBuffer: 4 << 20})
		var got, target atomic.Uint64
		reached := make(chan struct{}, 1)
		echo := funcHandler{packetMeta: func(c *Conn, from netip.AddrPort, buf []byte, off, n int, meta Meta) {
			_ = c.QueueTo(buf[off:off+n], from, meta.TOS)
		}}
		count := funcHandler{packet: func(*Conn, netip.AddrPort, []byte, int, int) {
			if got.Add(1) == target.Load() {
				select {
				case reached <- struct{}{}:
				default:
				}
			}
		}}
		echoer, stopEcho := dp.runWorker(t, echo, WorkerOptions{}, c)
		dp.runWorker(t, count, WorkerOptions{}, src)
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		payload := make([]byte, 200)
		sendBurst := func() bool {
			target.Store(got.Load() + burst)
			for range burst {
				if err := src.WriteToTOS(payload, c.LocalAddr(), 0xB8); err != nil {
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
		if !sendBurst() {
			t.Fatalf("warm-up burst: %d echoed", got.Load())
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range bursts {
			if !sendBurst() {
				t.Fatalf("%d echoed", got.Load())
			}
		}
		runtime.ReadMemStats(&after)
		if mallocs := after.Mallocs - before.Mallocs; mallocs > 50 {
			t.Fatalf("%d allocations while echoing %d datagrams, want about 0 per datagram", mallocs, burst*bursts)
		}
		// The counts of a flush are published after its sends.
		stopEcho()
		if st := echoer.Stats(); st.TxBatches == 0 || st.TxPackets != (bursts+1)*burst {
			t.Fatalf("echo worker sent %d datagrams in %d batches, want %d by sendmmsg", st.TxPackets, st.TxBatches, (bursts+1)*burst)
		}
	})
}
