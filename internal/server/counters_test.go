package server

import (
	"testing"

	"github.com/avedge/avedge/internal/server/stats"
)

// TestEndRoundPublishes checks that the per-packet counts of a round reach
// the worker's counters and the allocation's Counters only at EndRound,
// without allocating, and that an ending session records what it relayed
// in the round.
func TestEndRoundPublishes(t *testing.T) {
	f := newSocketFreeWorker(t)
	cd, off, n := packetBuf(channelData(0x4000, make([]byte, audioPayload)))
	fromPeer, poff, pn := packetBuf(make([]byte, audioPayload))
	f.w.handleClient(f.l, f.client, cd, off, n, 0)
	f.w.handlePeer(f.s, f.peer, fromPeer, poff, pn, 0)
	st := stats.Stats{Tenants: make([]stats.TenantStats, 1)}
	addCounters(&st, &f.w.c)
	if st.ToPeerPackets != 0 || f.s.alloc.Counters.ToPeerPackets.Load() != 0 {
		t.Fatal("counts published before EndRound")
	}
	f.w.EndRound()
	st = stats.Stats{Tenants: make([]stats.TenantStats, 1)}
	addCounters(&st, &f.w.c)
	c := &f.s.alloc.Counters
	if st.ToPeerPackets != 1 || st.ToPeerBytes != audioPayload || st.ToClientPackets != 1 || st.ToClientBytes != audioPayload ||
		c.ToPeerPackets.Load() != 1 || c.ToPeerBytes.Load() != audioPayload || c.ToClientPackets.Load() != 1 {
		t.Fatalf("after EndRound: worker %+v, allocation %d/%d packets", st, c.ToPeerPackets.Load(), c.ToClientPackets.Load())
	}
	round := func() {
		f.w.handleClient(f.l, f.client, cd, off, n, 0)
		f.w.handlePeer(f.s, f.peer, fromPeer, poff, pn, 0)
		f.w.EndRound()
	}
	if allocs := testing.AllocsPerRun(1000, round); allocs != 0 {
		t.Fatalf("%v allocations per round, want 0", allocs)
	}
	if got := c.ToPeerPackets.Load(); got != 1002 {
		t.Fatalf("allocation counted %d packets to the peer, want 1002", got)
	}
	var rec stats.Record
	f.w.env.onEnd = func(r stats.Record) { rec = r }
	f.w.handleClient(f.l, f.client, cd, off, n, 0)
	f.w.closeSession(f.s, stats.EndShutdown)
	if rec.ToPeerPackets != 1003 || rec.ToClientPackets != 1002 {
		t.Fatalf("record: %d packets to the peer, %d to the client; want 1003 and 1002", rec.ToPeerPackets, rec.ToClientPackets)
	}
}
