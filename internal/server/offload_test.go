package server

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v3"

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

// fakeOffload records the calls of the workers and answers Counters with
// what a test set, as a Loader would with what the kernel relayed.
type fakeOffload struct {
	mu        sync.Mutex
	installs  []offload.Channel
	removes   []offload.Channel
	installed map[offloadKey]offload.Channel
	counters  map[offloadKey]offload.Counters
	removed   chan offload.Channel
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
	k := offloadKey{c.Client, c.Number}
	if _, ok := f.installed[k]; !ok {
		return offload.Counters{}, fmt.Errorf("%w: %v", offload.ErrNotFound, k)
	}
	return f.counters[k], nil
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
	f := newFakeOffload()
	e := newOffloadEdge(t, f, nil)
	c := e.newClient(e.credential("alice", time.Hour))
	c.allocate()
	pr := newPeer(t, "127.0.0.1")
	c.bound(pr)
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
// with a bandwidth cap, stay in user space.
func TestOffloadNotInstalled(t *testing.T) {
	pr := newPeer(t, "127.0.0.1")

	f := newFakeOffload()
	se := newStreamEdge(t, func(o *Options) { o.Offload = f })
	tcp := se.newStreamClient(se.credential("bob", time.Hour))
	tcp.allocateUDP()
	wantCode(t, tcp.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(pr.addr())), 0)

	capped := newOffloadEdge(t, f, func(o *Options) { o.BandwidthPerUser = mustBandwidth(t, capRate) })
	c := capped.newClient(capped.credential("carol", time.Hour))
	c.allocate()
	c.bound(pr)

	if installs, _ := f.calls(); len(installs) != 0 {
		t.Errorf("installs %+v, want none", installs)
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
