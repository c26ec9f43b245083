package server

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/offload"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

// offloadKey names a channel in fakeOffload: its client and number.
type offloadKey struct {
	client netip.AddrPort
	num    uint16
}

// fakeOffload records the calls of the workers and answers Counters, and
// the snapshots that publish makes, with what a test set, as a Loader
// would with what the kernel relayed.
type fakeOffload struct {
	mu        sync.Mutex
	installs  []offload.Channel
	removes   []offload.Channel
	reads     int // calls of Counters
	installed map[offloadKey]offload.Channel
	counters  map[offloadKey]offload.Counters
	snap      fakeSnapshot
	removed   chan offload.Channel
	// source and sourceErr are what Source answers.
	source    netip.Addr
	sourceErr error
}

// fakeSnapshot is a snapshot of a fakeOffload.
type fakeSnapshot struct {
	seq      uint64
	counters map[offloadKey]offload.Counters
}

func (s fakeSnapshot) Seq() uint64 { return s.seq }

func (s fakeSnapshot) Counters(c offload.Channel) (offload.Counters, bool) {
	n, ok := s.counters[offloadKey{c.Client, c.Number}]
	return n, ok
}

func newFakeOffload() *fakeOffload {
	return &fakeOffload{
		installed: make(map[offloadKey]offload.Channel),
		counters:  make(map[offloadKey]offload.Counters),
		removed:   make(chan offload.Channel, 16),
	}
}

func (f *fakeOffload) Install(c offload.Channel) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.installs = append(f.installs, c)
	f.installed[offloadKey{c.Client, c.Number}] = c
	return nil
}

func (f *fakeOffload) Remove(c offload.Channel) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := offloadKey{c.Client, c.Number}
	if _, ok := f.installed[k]; !ok {
		return fmt.Errorf("%w: %v", offload.ErrNotFound, k)
	}
	delete(f.installed, k)
	delete(f.counters, k)
	f.removes = append(f.removes, c)
	f.removed <- c
	return nil
}

func (f *fakeOffload) Counters(c offload.Channel) (offload.Counters, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	k := offloadKey{c.Client, c.Number}
	if _, ok := f.installed[k]; !ok {
		return offload.Counters{}, fmt.Errorf("%w: %v", offload.ErrNotFound, k)
	}
	return f.counters[k], nil
}

func (f *fakeOffload) Source(netip.Addr) (netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.source, f.sourceErr
}

func (f *fakeOffload) Snapshot() offload.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

// publish makes a new snapshot of the counters of the installed channels,
// as the Loader's reader does every second, and returns its Seq.
func (f *fakeOffload) publish() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := fakeSnapshot{seq: f.snap.seq + 1, counters: make(map[offloadKey]offload.Counters)}
	for k := range f.installed {
		s.counters[k] = f.counters[k]
	}
	f.snap = s
	return s.seq
}

// exactReads returns how many times Counters was called.
func (f *fakeOffload) exactReads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// relayed sets what the kernel relayed for the channel of client num.
func (f *fakeOffload) relayed(client netip.AddrPort, num uint16, c offload.Counters) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counters[offloadKey{client, num}] = c
}

func (f *fakeOffload) calls() (installs, removes []offload.Channel) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.installs), slices.Clone(f.removes)
}

// waitRemoved returns the next channel removed.
func (f *fakeOffload) waitRemoved(t *testing.T) offload.Channel {
	t.Helper()
	select {
	case c := <-f.removed:
		return c
	case <-time.After(ioTimeout):
		t.Fatal("no offloaded channel removed")
		return offload.Channel{}
	}
}

// newOffloadEdge is a test edge with one worker driving f.
func newOffloadEdge(t *testing.T, f *fakeOffload, mod func(*Options)) *testEdge {
	return newTestEdge(t, func(o *Options) {
		o.Offload, o.Workers = f, 1
		if mod != nil {
			mod(o)
		}
	})
}

// newBoundOffload is a test edge driving a fake offload, and a client
// with an allocation and a channel bound to a peer on it.
func newBoundOffload(t *testing.T) (*fakeOffload, *testEdge, *client, *peer) {
	t.Helper()
	f := newFakeOffload()
	e := newOffloadEdge(t, f, nil)
	c := e.newClient(e.credential("alice", time.Hour))
	c.allocate()
	pr := newPeer(t, "127.0.0.1")
	c.bound(pr)
	return f, e, c, pr
}

// TestOffloadChannelBind: a ChannelBind installs the channel with its
// permission's lifetime on the relay's clock; refreshing the permission or
// the binding installs it again; the counters the kernel kept are in the
// record and the metrics when the allocation ends with a Refresh 0, and
// the channel is removed.
func TestOffloadChannelBind(t *testing.T) {
	f := newFakeOffload()
	e := newOffloadEdge(t, f, nil)
	c := e.newClient(e.credential("alice", time.Hour))
	relayed := c.allocate()
	pr := newPeer(t, "127.0.0.1")
	c.bound(pr)
	want := offload.Channel{
		Client: c.addr(), Listener: e.addr, Number: 0x4000, Relayed: relayed, Peer: pr.addr(),
		Lifetime: 300 * time.Second, // the permission's, shorter than the binding's 600 s
	}
	e.clk.Advance(time.Minute)
	wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(pr.addr())), 0)
	e.clk.Advance(time.Minute)
	c.bound(pr)
	if installs, _ := f.calls(); !slices.Equal(installs, []offload.Channel{want, want, want}) {
		t.Fatalf("installs\n%+v\nwant three of\n%+v", installs, want)
	}

	// What went through the kernel adds to what user space relayed.
	f.relayed(c.addr(), 0x4000, offload.Counters{
		ToPeer:   offload.Flow{Packets: 10, Bytes: 1000},
		ToClient: offload.Flow{Packets: 7, Bytes: 700},
	})
	c.sendChannel(2)
	if got := pr.count(); got != 2 {
		t.Fatalf("peer got %d packets relayed in user space, want 2", got)
	}
	wantCode(t, c.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
	rec := e.waitEnded()
	if rec.ToPeerPackets != 12 || rec.ToPeerBytes != 1000+2*capPayload || rec.ToClientPackets != 7 || rec.ToClientBytes != 700 {
		t.Errorf("record counts %d/%d to the peer, %d/%d to the client; want 12/%d and 7/700",
			rec.ToPeerPackets, rec.ToPeerBytes, rec.ToClientPackets, rec.ToClientBytes, 1000+2*capPayload)
	}
	if got := f.waitRemoved(t); got.Client != want.Client || got.Number != want.Number {
		t.Errorf("removed %+v, want %+v", got, want)
	}
	// The worker published the round in which the allocation ended
	// before it answered this request.
	wantCode(t, c.roundTrip(stun.MustBuild(stun.TransactionID, stun.BindingRequest)), 0)
	if st := e.srv.Stats(); st.ToPeerPackets != 12 || st.ToClientPackets != 7 || st.ToClientBytes != 700 {
		t.Errorf("metrics: %d packets to peers, %d (%d bytes) to clients; want 12, 7 (700)",
			st.ToPeerPackets, st.ToClientPackets, st.ToClientBytes)
	}
}

// TestOffloadExpiry: a channel whose permission expired on the relay's
// clock is removed on the next tick, with its counters read first; the
// allocation lives on.
func TestOffloadExpiry(t *testing.T) {
	f, e, c, pr := newBoundOffload(t)
	f.relayed(c.addr(), 0x4000, offload.Counters{ToPeer: offload.Flow{Packets: 5, Bytes: 500}})
	e.clk.Advance(4 * time.Minute)
	wantCode(t, c.do(stun.MethodRefresh), 0) // the allocation, not the permission
	e.clk.Advance(time.Minute + time.Second)
	if got := f.waitRemoved(t); got.Number != 0x4000 || got.Peer != pr.addr() {
		t.Errorf("removed %+v", got)
	}
	wantCode(t, c.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
	if rec := e.waitEnded(); rec.ToPeerPackets != 5 || rec.ToPeerBytes != 500 {
		t.Errorf("record: %d packets (%d bytes) to the peer, want 5 (500)", rec.ToPeerPackets, rec.ToPeerBytes)
	}
	if _, removes := f.calls(); len(removes) != 1 {
		t.Errorf("%d removals, want 1", len(removes))
	}
}

// TestOffloadRemovals: revoking the allocation's identity and a policy
// reload that denies the peer take the channel out of the kernel.
func TestOffloadRemovals(t *testing.T) {
	f := newFakeOffload()
	e := newOffloadEdge(t, f, nil)
	pr := newPeer(t, "127.0.0.1")

	c := e.newClient(e.credential("mallory", time.Hour))
	c.allocate()
	c.bound(pr)
	if n, err := e.srv.EndIdentity(context.Background(), "mallory", stats.EndRevoked); err != nil || n != 1 {
		t.Fatalf("EndIdentity = %d, %v", n, err)
	}
	if got := f.waitRemoved(t); got.Client != c.addr() {
		t.Errorf("revocation removed %+v, want the channel of %v", got, c.addr())
	}

	d := e.newClient(e.credential("alice", time.Hour))
	d.allocate()
	d.bound(pr)
	allowOther := policy.NewPeerPolicy([]netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, nil, true)
	if err := e.srv.SetPolicy(allowOther); err != nil {
		t.Fatal(err)
	}
	if got := f.waitRemoved(t); got.Client != d.addr() {
		t.Errorf("policy reload removed %+v, want the channel of %v", got, d.addr())
	}
	if installs, _ := f.calls(); len(installs) != 2 {
		t.Errorf("%d installs, want 2", len(installs))
	}
}

// TestOffloadNotInstalled: the channels of a TCP client, and of a user
// with a bandwidth cap, stay in user space, while a UDP client's of the
// same edge is installed.
func TestOffloadNotInstalled(t *testing.T) {
	pr := newPeer(t, "127.0.0.1")

	f := newFakeOffload()
	se := newStreamEdge(t, func(o *Options) { o.Offload = f })
	tcp := se.newStreamClient(se.credential("bob", time.Hour))
	tcp.allocateUDP()
	wantCode(t, tcp.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(pr.addr())), 0)
	// The same edge's UDP client is installed: the edge does consult the
	// offload, and leaves the TCP client out.
	udp := se.newClient(se.credential("dave", time.Hour))
	udp.allocate()
	udp.bound(pr)

	capped := newOffloadEdge(t, f, func(o *Options) { o.BandwidthPerUser = mustBandwidth(t, capRate) })
	c := capped.newClient(capped.credential("carol", time.Hour))
	c.allocate()
	c.bound(pr)

	if installs, _ := f.calls(); len(installs) != 1 || installs[0].Client != udp.addr() {
		t.Errorf("installs %+v, want one, of the UDP client %v", installs, udp.addr())
	}
}

// TestOffloadWildcardListener: the channels of a client of a wildcard
// listener are installed with the address the kernel answers the client
// from (Offload.Source) as their listener address; when it cannot tell,
// the channel stays in user space.
func TestOffloadWildcardListener(t *testing.T) {
	pr := newPeer(t, "127.0.0.1")
	for _, tc := range []struct {
		name    string
		source  netip.Addr
		err     error
		install bool
	}{
		{"known", netip.MustParseAddr("127.0.0.1"), nil, true},
		{"no route", netip.Addr{}, offload.ErrRoute, false},
		{"other family", netip.MustParseAddr("::1"), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOffload()
			f.source, f.sourceErr = tc.source, tc.err
			e := newOffloadEdge(t, f, func(o *Options) {
				o.Listeners = []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:0")}
			})
			c := e.newClient(e.credential("alice", time.Hour))
			c.server = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), e.addr.Port())
			c.allocate()
			c.bound(pr)
			installs, _ := f.calls()
			switch {
			case !tc.install && len(installs) != 0:
				t.Errorf("installs %+v, want none", installs)
			case tc.install && (len(installs) != 1 || installs[0].Listener != c.server):
				t.Errorf("installs %+v, want one with listener %v", installs, c.server)
			}
		})
	}
}

// TestOffloadTenantCaps: a tenant's bandwidth cap keeps its own
// allocations' channels in user space, not those of the other tenants.
func TestOffloadTenantCaps(t *testing.T) {
	f := newFakeOffload()
	e := newTenantEdge(t, func(o *Options) { o.Offload, o.Workers = f, 1 })
	pr := newPeer(t, "127.0.0.1")
	for _, tc := range []struct {
		secret auth.Secret
		realm  string
	}{
		{secretC, realmC},     // capped
		{e.secret, testRealm}, // not capped
	} {
		c := e.tenantClient(tc.secret, "alice", e.addr)
		challengeRealm(t, c)
		c.realm = tc.realm
		wantCode(t, c.do(stun.MethodAllocate, udpTransport), 0)
		c.bound(pr)
	}
	if installs, _ := f.calls(); len(installs) != 1 || installs[0].Client.Port() == 0 {
		t.Fatalf("installs %+v, want one (the uncapped tenant's)", installs)
	}
}

// TestOffloadRebind: once a channel has expired (removed from the kernel)
// and its quarantine has passed, binding its number to another peer
// installs the new peer.
func TestOffloadRebind(t *testing.T) {
	f := newFakeOffload()
	e := newOffloadEdge(t, f, nil)
	c := e.newClient(e.credential("alice", time.Hour))
	c.allocate()
	wantCode(t, c.do(stun.MethodRefresh, stunproto.Lifetime{Duration: time.Hour}), 0)
	first, second := newPeer(t, "127.0.0.1"), newPeer(t, "127.0.0.1")
	c.bound(first)
	e.clk.Advance(5*time.Minute + time.Second) // the permission ends
	if got := f.waitRemoved(t); got.Peer != first.addr() {
		t.Fatalf("removed %+v, want the channel to %v", got, first.addr())
	}
	e.clk.Advance(11 * time.Minute) // the binding and its quarantine end
	c.bound(second)
	installs, removes := f.calls()
	if len(installs) != 2 || installs[1].Peer != second.addr() || installs[1].Number != 0x4000 || len(removes) != 1 {
		t.Errorf("installs %+v, removes %+v; want the channel to %v installed after the removal of the first",
			installs, removes, second.addr())
	}
}

// offloadTick runs the offload part of every worker's tick at the edge's
// clock's now, on the worker goroutine, and returns once it ran.
func (e *testEdge) offloadTick() {
	e.t.Helper()
	done := make(chan struct{}, len(e.srv.workers))
	for _, wl := range e.srv.workers {
		w := wl.w
		if err := wl.dp.Do(func() { w.offloadTick(e.clk.Now()); done <- struct{}{} }); err != nil {
			e.t.Fatalf("Do: %v", err)
		}
	}
	for range e.srv.workers {
		select {
		case <-done:
		case <-time.After(ioTimeout):
			e.t.Fatal("a worker did not tick")
		}
	}
}

// bindTo binds channel num of c to p.
func (c *client) bindTo(num uint16, p *peer) {
	c.t.Helper()
	wantCode(c.t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(num), peerAttr(p.addr())), 0)
}

// installedBy returns the peers of the channels that do installed,
// sorted.
func installedBy(f *fakeOffload, do func()) []netip.AddrPort {
	before, _ := f.calls()
	do()
	installs, _ := f.calls()
	var peers []netip.AddrPort
	for _, c := range installs[len(before):] {
		peers = append(peers, c.Peer)
	}
	slices.SortFunc(peers, netip.AddrPort.Compare)
	return peers
}

// TestOffloadIPv6: an IPv6 client on an IPv6 listener with an IPv6
// relayed address gets its channel to an IPv6 peer installed, with the
// IPv6 listener and relayed addresses.
func TestOffloadIPv6(t *testing.T) {
	requireIPv6(t)
	f := newFakeOffload()
	e := newOffloadEdge(t, f, withIPv6)
	u, p := e.credential("alice", time.Hour)
	c := e.newClientFrom("::1", u, p)
	relayed := c.allocate(askIPv6)
	pr := newPeer(t, "::1")
	c.bindTo(0x4000, pr)
	want := offload.Channel{
		Client: c.addr(), Listener: c.server, Number: 0x4000, Relayed: relayed, Peer: pr.addr(),
		Lifetime: 300 * time.Second,
	}
	if installs, _ := f.calls(); !slices.Equal(installs, []offload.Channel{want}) || !want.Listener.Addr().Is6() {
		t.Errorf("installs\n%+v\nwant\n%+v", installs, want)
	}
}

// TestOffloadMixedFamilies: in dual allocations, only the channels whose
// client, listener and peer share a family are installed, through the
// relayed address of that family; the others stay in user space.
func TestOffloadMixedFamilies(t *testing.T) {
	requireIPv6(t)
	f := newFakeOffload()
	e := newOffloadEdge(t, f, withIPv6)
	p4, p6 := newPeer(t, "127.0.0.1"), newPeer(t, "::1")
	for _, from := range []string{"127.0.0.1", "::1"} {
		u, p := e.credential("alice", time.Hour)
		c := e.newClientFrom(from, u, p)
		relayed, _ := c.allocateAll(alsoIPv6)
		if len(relayed) != 2 {
			t.Fatalf("client on %s: relayed %v, want two", from, relayed)
		}
		before, _ := f.calls()
		c.bindTo(0x4000, p4)
		c.bindTo(0x4001, p6)
		installs, _ := f.calls()
		installs = installs[len(before):]
		wantPeer, wantRelayed := p4.addr(), relayed[0]
		if from == "::1" {
			wantPeer, wantRelayed = p6.addr(), relayed[1]
		}
		if len(installs) != 1 || installs[0].Peer != wantPeer || installs[0].Relayed != wantRelayed {
			t.Errorf("client on %s: installs %+v, want only the channel to %v through %v", from, installs, wantPeer, wantRelayed)
		}
	}
}

// TestOffloadPermittedOnly: a CreatePermission installs again only the
// channels to the addresses it names; a ChannelBind refresh installs
// again the channels to its peer's address (whose permission it
// refreshed), not the others.
func TestOffloadPermittedOnly(t *testing.T) {
	requireBind(t, "udp4", net.IPv4(127, 0, 0, 2))
	f := newFakeOffload()
	e := newOffloadEdge(t, f, nil)
	c := e.newClient(e.credential("alice", time.Hour))
	c.allocate()
	a, a2, b := newPeer(t, "127.0.0.1"), newPeer(t, "127.0.0.1"), newPeer(t, "127.0.0.2")
	c.bindTo(0x4000, a)
	if got := installedBy(f, func() { c.bindTo(0x4001, a2) }); len(got) != 2 {
		t.Errorf("binding a second channel to %v installed %v, want both channels to it", a.addr().Addr(), got)
	}
	c.bindTo(0x4002, b)
	e.clk.Advance(time.Minute)
	got := installedBy(f, func() { wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(b.addr())), 0) })
	if !slices.Equal(got, []netip.AddrPort{b.addr()}) {
		t.Errorf("CreatePermission(%v) installed %v, want only %v", b.addr(), got, b.addr())
	}
	e.clk.Advance(time.Minute)
	got = installedBy(f, func() { c.bindTo(0x4000, a) })
	want := []netip.AddrPort{a.addr(), a2.addr()}
	slices.SortFunc(want, netip.AddrPort.Compare)
	if !slices.Equal(got, want) {
		t.Errorf("ChannelBind refresh to %v installed %v, want %v", a.addr(), got, want)
	}
	if installs, _ := f.calls(); installs[len(installs)-1].Lifetime != 300*time.Second {
		t.Errorf("refreshed with lifetime %v, want the new permission's 300 s", installs[len(installs)-1].Lifetime)
	}
}

// TestOffloadTickAtEnd: the tick removes a channel exactly at the end
// recorded when it was installed (its permission's, 300 s), and at the
// new end once a CreatePermission refreshed it, not before.
func TestOffloadTickAtEnd(t *testing.T) {
	f, e, c, pr := newBoundOffload(t)
	e.clk.Advance(time.Minute)
	wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(pr.addr())), 0) // ends at 360 s
	e.clk.Advance(4*time.Minute - time.Millisecond)
	e.offloadTick()
	e.clk.Advance(time.Millisecond) // 300 s: the first end
	e.offloadTick()
	e.clk.Advance(time.Minute - time.Millisecond)
	e.offloadTick()
	if _, removes := f.calls(); len(removes) != 0 {
		t.Fatalf("removed %+v before the refreshed permission ended", removes)
	}
	e.clk.Advance(time.Millisecond)
	e.offloadTick()
	if _, removes := f.calls(); len(removes) != 1 || removes[0].Peer != pr.addr() {
		t.Errorf("removed %+v at the refreshed permission's end, want the channel to %v", removes, pr.addr())
	}
}

// TestOffloadSnapshot: the workers take the kernel's counters from the
// offload's snapshots, without an exact read, once a snapshot is surely
// newer than the install, and count each packet once however many
// snapshots hold it; the exact read at the end completes the record.
func TestOffloadSnapshot(t *testing.T) {
	f, e, c, _ := newBoundOffload(t)
	toPeer := func() uint64 {
		t.Helper()
		// The worker published the round of the tick before it answered.
		wantCode(t, c.roundTrip(stun.MustBuild(stun.TransactionID, stun.BindingRequest)), 0)
		return e.srv.Stats().ToPeerPackets
	}
	f.relayed(c.addr(), 0x4000, offload.Counters{ToPeer: offload.Flow{Packets: 10, Bytes: 1000}})
	f.publish() // may have been read before the install: not used
	e.offloadTick()
	if got := toPeer(); got != 0 {
		t.Errorf("%d packets counted from a snapshot that may predate the install, want 0", got)
	}
	for range 2 {
		f.publish()
		e.offloadTick()
		if got := toPeer(); got != 10 {
			t.Errorf("%d packets counted from the snapshots, want 10", got)
		}
	}
	if n := f.exactReads(); n != 0 {
		t.Errorf("%d exact reads while the channel lives, want 0", n)
	}
	f.relayed(c.addr(), 0x4000, offload.Counters{ToPeer: offload.Flow{Packets: 15, Bytes: 1500}})
	wantCode(t, c.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
	if rec := e.waitEnded(); rec.ToPeerPackets != 15 || rec.ToPeerBytes != 1500 {
		t.Errorf("record: %d packets (%d bytes) to the peer, want 15 (1500)", rec.ToPeerPackets, rec.ToPeerBytes)
	}
}

// TestFlowSince: a flow counts what it grew by; one that went back (a
// refresh lost the packets between the loader's read and write) counts
// nothing until it passes what was seen, and then only the excess.
func TestFlowSince(t *testing.T) {
	seen := offload.Flow{Packets: 10, Bytes: 1000}
	for _, tc := range []struct {
		flow, want, wantSeen offload.Flow
	}{
		{offload.Flow{Packets: 12, Bytes: 1200}, offload.Flow{Packets: 2, Bytes: 200}, offload.Flow{Packets: 12, Bytes: 1200}},
		{offload.Flow{Packets: 9, Bytes: 900}, offload.Flow{}, seen},
		{offload.Flow{Packets: 10, Bytes: 1000}, offload.Flow{}, seen},
	} {
		if got, gotSeen := flowSince(tc.flow, seen); got != tc.want || gotSeen != tc.wantSeen {
			t.Errorf("flowSince(%+v, %+v) = %+v, %+v; want %+v, %+v", tc.flow, seen, got, gotSeen, tc.want, tc.wantSeen)
		}
	}
}

// benchSnapshot is a snapshot whose Seq a benchmark moves on.
type benchSnapshot struct {
	seq      *uint64
	counters map[offloadKey]offload.Counters
}

func (s *benchSnapshot) Seq() uint64 { return *s.seq }

func (s *benchSnapshot) Counters(c offload.Channel) (offload.Counters, bool) {
	n, ok := s.counters[offloadKey{c.Client, c.Number}]
	return n, ok
}

// benchOffload is an Offload whose only use is its Snapshot.
type benchOffload struct {
	fakeOffload
	snap *benchSnapshot
}

func (b *benchOffload) Snapshot() offload.Snapshot { return b.snap }

// BenchmarkOffloadTick ticks a worker with 16 384 offloaded channels (8192
// sessions of two) none of which is due: "idle" with no new snapshot (the
// three ticks out of four between snapshots), "snapshot" with a new one
// each tick, whose counters are read for every channel.
func BenchmarkOffloadTick(b *testing.B) {
	sw := newSocketFreeWorker(b)
	w := sw.w
	now := sw.clk.Now()
	var seq uint64 = 2
	off := &benchOffload{snap: &benchSnapshot{seq: &seq, counters: make(map[offloadKey]offload.Counters)}}
	w.env.offload = off
	w.off.by = make(map[*session][]offloaded)
	for i := range 8192 {
		s := &session{}
		for j := range 2 {
			ch := offload.Channel{
				Client: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(1024+i)), Number: 0x4000 + uint16(j),
			}
			off.snap.counters[offloadKey{ch.Client, ch.Number}] = offload.Counters{ToPeer: offload.Flow{Packets: 1, Bytes: 100}}
			w.off.by[s] = append(w.off.by[s], offloaded{ch: ch, end: now.Add(5 * time.Minute)})
		}
		if i == 0 {
			w.off.due = now.Add(5 * time.Minute)
		}
	}
	w.offloadTick(now) // counts the packets once
	b.Run("idle", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w.offloadTick(now)
		}
	})
	b.Run("snapshot", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			seq++
			w.offloadTick(now)
		}
	})
}
