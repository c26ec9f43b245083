package server

import (
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

// TestInterimRecords: with InterimRecords every 5 minutes, a live
// allocation is reported at 5 and 10 minutes with its totals so far,
// and its end record follows when it ends; a younger allocation is not
// reported before its own 5 minutes.
func TestInterimRecords(t *testing.T) {
	interim := make(chan stats.Record, 16)
	e := newTestEdge(t, func(o *Options) {
		o.InterimRecords = 5 * time.Minute
		o.OnInterim = func(r stats.Record) { interim <- r }
	})
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	relayed := c.allocate()
	peer := newPeer(t, "127.0.0.1")
	c.bound(peer)
	c.send(channelData(0x4000, []byte("12345")))
	if b, _ := peer.read(); string(b) != "12345" {
		t.Fatalf("peer got %q", b)
	}
	c.barrier()
	start := e.clk.Now()
	next := func() stats.Record {
		t.Helper()
		select {
		case r := <-interim:
			return r
		case <-time.After(ioTimeout):
			t.Fatal("no interim record")
			return stats.Record{}
		}
	}
	e.clk.Advance(4 * time.Minute)
	wantCode(t, c.do(stun.MethodRefresh), 0)
	c.bound(peer) // the permission lasts 5 minutes
	late := e.newClient(e.credential("bob", time.Hour))
	late.allocate()
	e.clk.Advance(time.Minute)
	r := next()
	if !r.Interim || r.Relayed != relayed || r.Reason != "" || !r.End.Equal(start.Add(5*time.Minute)) ||
		r.ToPeerPackets != 1 || r.ToPeerBytes != 5 {
		t.Fatalf("first interim record %+v, want alice's at 5 minutes with 1 packet, 5 bytes", r)
	}
	c.send(channelData(0x4000, []byte("678")))
	if b, _ := peer.read(); string(b) != "678" {
		t.Fatalf("peer got %q", b)
	}
	c.barrier()
	e.clk.Advance(4 * time.Minute) // 9 minutes: bob's 5
	wantCode(t, c.do(stun.MethodRefresh), 0)
	wantCode(t, late.do(stun.MethodRefresh), 0)
	if r := next(); r.Identity != "bob" || !r.Interim || !r.End.Equal(start.Add(9*time.Minute)) {
		t.Fatalf("interim record %+v, want bob's at his 5 minutes", r)
	}
	e.clk.Advance(time.Minute)
	if r := next(); r.Identity != "alice" || r.ToPeerPackets != 2 || r.ToPeerBytes != 8 || !r.End.Equal(start.Add(10*time.Minute)) {
		t.Errorf("second interim record %+v, want alice's with 2 packets, 8 bytes at 10 minutes", r)
	}
	wantCode(t, c.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
	if rec := e.waitEnded(); rec.Interim || rec.Reason != "refresh 0" || rec.ToPeerBytes != 8 {
		t.Errorf("end record %+v", rec)
	}
}
