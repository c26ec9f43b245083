package datapath

import (
	"net/netip"
	"testing"
)

// requireGSO skips the test when the worker's probe found no UDP GSO.
func requireGSO(t testing.TB, w *Worker) {
	t.Helper()
	if !w.txq.gso {
		t.Skip("skipping: this kernel refuses setsockopt(SOL_UDP, UDP_SEGMENT) (UDP GSO needs Linux 4.18 or later)")
	}
}

// TestQueueToGSO queues runs of datagrams on one socket and checks that
// those with the same destination, TOS byte and size (the last of a run
// may be shorter) leave as UDP_SEGMENT sends that the receiver sees as
// separate datagrams of the right sizes, in order.
func TestQueueToGSO(t *testing.T) {
	const big, small = 1000, 400
	sizes := func(s ...int) []int { return s }
	same := func(n, size int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = size
		}
		return s
	}
	tests := []struct {
		name         string
		sizes        []int
		tos          func(i int) uint8
		disable      bool
		wantSends    uint64
		wantSegments uint64
	}{
		{"equal sizes, last shorter", sizes(big, big, big, small), nil, false, 1, 4},
		{"a shorter one ends a run", sizes(big, small, big, big), nil, false, 2, 4},
		{"a longer one ends a run", sizes(small, small, big), nil, false, 1, 2},
		{"at most 64 segments", same(100, 100), nil, false, 2, 100},
		{"at most 65000 bytes", same(30, 2200), nil, false, 1, 29},
		{"a TOS change ends a run", same(4, big), func(i int) uint8 { return uint8(i/2) * 0x20 }, false, 2, 4},
		{"single datagram", sizes(big), nil, false, 0, 0},
		{"disabled", same(4, big), nil, true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := listen(t, loop4, ListenConfig{})
			sink := peer(t, loop4)
			to := netip.MustParseAddrPort(sink.LocalAddr().String())
			h := funcHandler{packet: func(c *Conn, _ netip.AddrPort, _ []byte, _, _ int) {
				for i, size := range tt.sizes {
					var tos uint8
					if tt.tos != nil {
						tos = tt.tos(i)
					}
					_ = c.QueueTo(numbered(i, size), to, tos)
				}
			}}
			w, stop := runWorker(t, h, WorkerOptions{TxQueue: 128, TxBuffer: 256 << 10, DisableGSO: tt.disable}, c)
			if !tt.disable {
				requireGSO(t, w)
			}
			trigger(t, c)
			expectNumbered(t, sink, len(tt.sizes), func(i int) int { return tt.sizes[i] })
			stop()
			st := w.Stats()
			if st.TxGSOSends != tt.wantSends || st.TxGSOSegments != tt.wantSegments || st.TxPackets != uint64(len(tt.sizes)) {
				t.Fatalf("Stats: %d GSO sends of %d segments, %d packets; want %d of %d, %d", st.TxGSOSends,
					st.TxGSOSegments, st.TxPackets, tt.wantSends, tt.wantSegments, len(tt.sizes))
			}
		})
	}
}

// TestQueueToGSOFallback sends a run that the kernel refuses (port 0 is
// EINVAL): its datagrams are tried again one by one and counted as
// errors, GSO stays on for the next run, which arrives.
func TestQueueToGSOFallback(t *testing.T) {
	c := listen(t, loop4, ListenConfig{})
	sink := peer(t, loop4)
	to := netip.MustParseAddrPort(sink.LocalAddr().String())
	portZero := netip.AddrPortFrom(to.Addr(), 0)
	h := funcHandler{packet: func(c *Conn, _ netip.AddrPort, _ []byte, _, _ int) {
		for i := range 3 {
			_ = c.QueueTo(numbered(i, 500), portZero, 0)
		}
		for i := range 3 {
			_ = c.QueueTo(numbered(i, 500), to, 0)
		}
	}}
	w, stop := runWorker(t, h, WorkerOptions{}, c)
	requireGSO(t, w)
	trigger(t, c)
	expectNumbered(t, sink, 3, func(int) int { return 500 })
	stop()
	st := w.Stats()
	if st.TxErrors != 3 || st.TxGSOFallbacks != 1 || st.TxGSOSends != 1 || st.TxGSOSegments != 3 || !w.txq.gso {
		t.Fatalf("Stats %+v, GSO on %v; want 3 errors, 1 fallback, 1 GSO send of 3, GSO still on", st, w.txq.gso)
	}
}
