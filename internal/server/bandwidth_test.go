package server

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

const (
	// capRate is the bandwidth cap of the tests, in bytes per second: its
	// burst is policy.MinBurst, 65 packets of capPayload bytes.
	capRate    = 10_000
	capPayload = 1000
	capBurst   = policy.MinBurst / capPayload
	// capRefill is what capRate adds in a second, in packets.
	capRefill = capRate / capPayload
)

func mustBandwidth(t *testing.T, rate uint64) policy.Bandwidth {
	t.Helper()
	bw, err := policy.NewBandwidth(rate, 0)
	if err != nil {
		t.Fatal(err)
	}
	return bw
}

// payload returns capPayload bytes that name packet i.
func payload(i int) []byte {
	b := bytes.Repeat([]byte{byte(i)}, capPayload)
	b[0] = byte(i >> 8)
	return b
}

// bound creates a permission and a channel to p on c's allocation.
func (c *client) bound(p *peer) {
	c.t.Helper()
	wantCode(c.t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(p.addr())), 0)
}

// sendChannel sends n ChannelData packets, with barriers so that no
// socket buffer overflows: all of them reach the edge.
func (c *client) sendChannel(n int) {
	c.t.Helper()
	for i := range n {
		c.send(channelData(0x4000, payload(i)))
		if i%16 == 15 {
			c.barrier()
		}
	}
	c.barrier()
}

// count reads datagrams until none is waiting, and returns how many of
// capPayload bytes arrived. The edge sent them before it answered the
// last barrier, so on loopback they are all queued already.
func (p *peer) count() int {
	p.t.Helper()
	n := 0
	buf := make([]byte, 65536)
	for {
		_ = p.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		m, _, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return n
		}
		if m != capPayload {
			p.t.Fatalf("peer got %d bytes, want %d", m, capPayload)
		}
		n++
	}
}

// countingBarrier is barrier for traffic from peers: it returns how many
// ChannelData messages of capPayload bytes the client got before the
// answer. The peer's datagrams reached the worker before the Binding
// request did, and the worker sends in order on the client's socket.
func (c *client) countingBarrier() int {
	c.t.Helper()
	m := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	c.send(m.Raw)
	n := 0
	for {
		b := c.read()
		if len(b) == capPayload+4 && b[0] == 0x40 {
			n++
			continue
		}
		var r stun.Message
		if stun.Decode(b, &r) == nil && r.TransactionID == m.TransactionID {
			return n
		}
	}
}

// TestBandwidthPerAllocation relays bursts larger than the cap of one
// allocation at instants of a fake clock: the edge relays exactly the burst,
// then what the rate refills, counts the rest as bandwidth drops, and caps
// each direction on its own.
func TestBandwidthPerAllocation(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.BandwidthPerAllocation = mustBandwidth(t, capRate) })
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	relayed := c.allocate()
	pr := newPeer(t, "127.0.0.1")
	c.bound(pr)

	c.sendChannel(2 * capBurst)
	if got := pr.count(); got != capBurst {
		t.Fatalf("peer got %d packets of a burst of %d, want the cap's burst %d", got, 2*capBurst, capBurst)
	}
	e.clk.Advance(time.Second)
	c.sendChannel(2 * capRefill)
	if got := pr.count(); got != capRefill {
		t.Fatalf("a second later the peer got %d packets, want %d", got, capRefill)
	}
	wantDrops := uint64(capBurst + capRefill)
	if got := e.srv.Stats().Dropped(stats.DropBandwidth); got != wantDrops {
		t.Fatalf("bandwidth drops = %d, want %d", got, wantDrops)
	}

	// The other direction has its own bucket: the peer's burst is capped
	// likewise, and the client gets ChannelData.
	got := 0
	for i := range 2 * capBurst {
		pr.sendTo(payload(i), relayed)
		if i%16 == 15 {
			got += c.countingBarrier()
		}
	}
	got += c.countingBarrier()
	if got != capBurst {
		t.Fatalf("client got %d packets of the peer's %d, want %d", got, 2*capBurst, capBurst)
	}
	wantDrops += capBurst
	st := e.srv.Stats()
	if got := st.Dropped(stats.DropBandwidth); got != wantDrops {
		t.Fatalf("bandwidth drops = %d, want %d", got, wantDrops)
	}
	if st.ToPeerBytes != (capBurst+capRefill)*capPayload {
		t.Fatalf("relayed %d bytes to the peer, want %d", st.ToPeerBytes, (capBurst+capRefill)*capPayload)
	}
	c.do(stun.MethodRefresh, stunproto.Lifetime{})
	if rec := e.waitEnded(); rec.ToPeerPackets != capBurst+capRefill {
		t.Fatalf("record: %d packets to the peer, want %d", rec.ToPeerPackets, capBurst+capRefill)
	}
}

// TestBandwidthPerUser checks that two allocations of one identity share
// the per-user cap, while another identity has its own.
func TestBandwidthPerUser(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.BandwidthPerUser = mustBandwidth(t, capRate) })
	pr := newPeer(t, "127.0.0.1")
	var clients []*client
	for _, id := range []string{"alice", "alice", "bob"} {
		u, p := e.credential(id, time.Hour)
		c := e.newClient(u, p)
		c.allocate()
		c.bound(pr)
		clients = append(clients, c)
	}
	// Alice's two allocations each send two thirds of the burst.
	clients[0].sendChannel(capBurst * 2 / 3)
	clients[1].sendChannel(capBurst * 2 / 3)
	if got := pr.count(); got != capBurst {
		t.Fatalf("peer got %d of alice's packets, want her burst %d", got, capBurst)
	}
	clients[2].sendChannel(capBurst)
	if got := pr.count(); got != capBurst {
		t.Fatalf("peer got %d of bob's packets, want his own burst %d", got, capBurst)
	}
	if got, want := e.srv.Stats().Dropped(stats.DropBandwidth), uint64(2*(capBurst*2/3)-capBurst); got != want {
		t.Fatalf("bandwidth drops = %d, want %d", got, want)
	}
}

// TestCapacityRefusesAllocations checks that new allocations get 508
// while the relayed bandwidth is above the capacity, that live ones go on
// relaying, and that allocations are admitted again once it falls.
func TestCapacityRefusesAllocations(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.Capacity = 2 * capPayload })
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	c.allocate()
	pr := newPeer(t, "127.0.0.1")
	c.bound(pr)
	c.sendChannel(10) // 10000 bytes: 5000 bytes/s over the next 2 s
	if got := pr.count(); got != 10 {
		t.Fatalf("peer got %d packets, want 10", got)
	}
	sample := func() { e.srv.env.capacity.sample(int64(e.clk.Now().Sub(e.srv.env.bw.epoch))) }
	e.clk.Advance(2 * time.Second)
	sample()
	u2, p2 := e.credential("bob", time.Hour)
	c2 := e.newClient(u2, p2)
	wantCode(t, c2.do(stun.MethodAllocate, udpTransport), stun.CodeInsufficientCapacity)

	c.sendChannel(1)
	if got := pr.count(); got != 1 {
		t.Fatalf("over capacity, the live allocation relayed %d packets, want 1", got)
	}
	e.clk.Advance(2 * time.Second)
	sample()
	c2.allocate()
}

func TestBandwidthFastPathDoesNotAllocate(t *testing.T) {
	f := newSocketFreeWorker(t)
	bw := mustBandwidth(t, 1_000_000_000)
	f.w.env.bw.set([]bwCaps{{bw, bw}}, f.clk.Now())
	f.s.user = f.w.env.bw.acquire(defaultOwner("bench"))
	defer f.w.env.bw.release(defaultOwner("bench"), f.s.user)
	cd, off, n := packetBuf(channelData(0x4000, make([]byte, audioPayload)))
	fromPeer, poff, pn := packetBuf(make([]byte, audioPayload))
	relay := f.s.relays[famV4].sock.(*fakeSocket)
	for _, tc := range []struct {
		name string
		run  func()
		out  *fakeSocket
	}{
		{"to peer", func() { f.w.handleClient(f.l, f.client, cd, off, n, 0) }, relay},
		{"to client", func() { f.w.handlePeer(f.s, f.peer, fromPeer, poff, pn, 0) }, f.lsock},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.out.writes
			if allocs := testing.AllocsPerRun(1000, tc.run); allocs != 0 {
				t.Fatalf("%v allocations per packet, want 0", allocs)
			}
			if got := tc.out.writes - before; got != 1001 {
				t.Fatalf("%d packets forwarded, want 1001 (under the cap)", got)
			}
		})
	}
}

func TestUserBandwidthShared(t *testing.T) {
	var b bandwidth
	// The default tenant caps its users; tenant 1 caps its allocations
	// only.
	b.set([]bwCaps{{perUser: mustBandwidth(t, capRate)}, {perAlloc: mustBandwidth(t, capRate)}}, time.Unix(0, 0))
	alice, bob := defaultOwner("alice"), defaultOwner("bob")
	a1, a2, other := b.acquire(alice), b.acquire(alice), b.acquire(bob)
	if a1 != a2 || a1 == other || a1 == nil {
		t.Fatal("one user's allocations do not share their buckets, or users share theirs")
	}
	if b.acquire(quotaOwner(&auth.Result{Identity: "alice", TenantIndex: 1})) != nil {
		t.Fatal("buckets for a user of a tenant without a per-user cap")
	}
	b.release(alice, a1)
	b.release(alice, a2)
	b.release(bob, other)
	if len(b.users) != 0 {
		t.Fatalf("%d users' buckets left after every release", len(b.users))
	}
}

// BenchmarkChannelDataToPeerCapped is BenchmarkChannelDataToPeer with a
// per-allocation and a per-user cap that the traffic stays under.
func BenchmarkChannelDataToPeerCapped(b *testing.B) {
	f := newSocketFreeWorker(b)
	bw, err := policy.NewBandwidth(policy.MaxBandwidth, 0)
	if err != nil {
		b.Fatal(err)
	}
	f.w.env.bw.set([]bwCaps{{bw, bw}}, f.clk.Now())
	f.s.user = f.w.env.bw.acquire(defaultOwner("bench"))
	buf, off, n := packetBuf(channelData(0x4000, make([]byte, audioPayload)))
	b.ReportAllocs()
	b.SetBytes(audioPayload)
	for b.Loop() {
		f.w.handleClient(f.l, f.client, buf, off, n, 0)
	}
}
