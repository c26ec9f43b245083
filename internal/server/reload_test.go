package server

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/stunproto"
)

// TestSetPolicy: after a policy that denies a peer, a new CreatePermission
// for it gets 403 while the permission installed before keeps relaying.
func TestSetPolicy(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	relayed := c.allocate()
	p1, p2 := newPeer(t, "127.0.0.1"), newPeer(t, "127.0.0.2")
	wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(p1.addr())), 0)

	deny := policy.NewPeerPolicy([]netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, nil, true)
	if err := e.srv.SetPolicy(deny); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(p2.addr())), stun.CodeForbidden)
	wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(p2.addr())), stun.CodeForbidden)
	c.sendTo(p1.addr(), "still relayed")
	if got, from := p1.read(); string(got) != "still relayed" || from != relayed {
		t.Fatalf("peer got %q from %v", got, from)
	}
	if err := e.srv.SetPolicy(nil); !errors.Is(err, ErrNilPolicy) {
		t.Fatalf("SetPolicy(nil) = %v, want ErrNilPolicy", err)
	}
}

// TestSetQuotas: new quotas apply to the next Allocate; live allocations
// over a lowered quota stay.
func TestSetQuotas(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	first, second := e.newClient(u, p), e.newClient(u, p)
	first.allocate()
	second.allocate()

	e.srv.SetQuotas(Quotas{AllocationsPerUser: 1, AllocationsTotal: 1000})
	wantCode(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport), stun.CodeAllocQuotaReached)
	wantCode(t, first.do(stun.MethodRefresh), 0) // over the quota, still live
	wantCode(t, second.do(stun.MethodRefresh), 0)
	u2, p2 := e.credential("bob", time.Hour)
	e.newClient(u2, p2).allocate()

	e.srv.SetQuotas(Quotas{AllocationsPerUser: 5, AllocationsTotal: 3})
	wantCode(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport), stun.CodeInsufficientCapacity)
	e.srv.SetQuotas(Quotas{AllocationsPerUser: 5}) // unlimited total
	e.newClient(u, p).allocate()
}

// TestPortsPerUserReload: the ports quota of SetQuotas applies to the
// next Allocate; live allocations stay.
func TestPortsPerUserReload(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.PortsPerUser = 2 })
	e.alice().allocate()
	e.alice().allocate()
	wantCode(t, e.alice().do(stun.MethodAllocate, udpTransport), stun.CodeAllocQuotaReached)
	e.srv.SetQuotas(Quotas{AllocationsPerUser: 12, AllocationsTotal: 1000, PortsPerUser: 3})
	e.alice().allocate()
	e.srv.SetQuotas(Quotas{AllocationsPerUser: 12, AllocationsTotal: 1000, PortsPerUser: 1})
	wantCode(t, e.alice().do(stun.MethodAllocate, udpTransport), stun.CodeAllocQuotaReached)
	e.srv.SetQuotas(Quotas{AllocationsPerUser: 13, AllocationsTotal: 1000, PortsPerUser: 1})
	wantCode(t, e.alice().do(stun.MethodAllocate, udpTransport), stun.CodeAllocQuotaReached)
	e.srv.SetQuotas(Quotas{AllocationsPerUser: 12, AllocationsTotal: 1000})
	e.alice().allocate()
	if n := e.srv.Stats().Allocations; n != 4 {
		t.Fatalf("%d allocations, want 4", n)
	}
}

// TestSetUnauthenticatedLimit: a new limit takes effect on the worker,
// with new buckets; an invalid one changes nothing; rate 0 lifts it.
func TestSetUnauthenticatedLimit(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.Workers = 1 })
	c := e.newClient("", "")
	binding := func() *stun.Message { return stun.MustBuild(stun.TransactionID, stun.BindingRequest) }
	burst := func(n int) []*stun.Message {
		reqs := make([]*stun.Message, n)
		for i := range reqs {
			reqs[i] = binding()
		}
		return reqs
	}
	if got := len(c.answers(burst(5))); got != 5 {
		t.Fatalf("%d answers without a limit, want 5", got)
	}
	if err := e.srv.SetUnauthenticatedLimit(policy.SourceLimit{Rate: -1, Burst: 1}); !errors.Is(err, policy.ErrBadSourceLimit) {
		t.Fatalf("invalid limit: %v, want ErrBadSourceLimit", err)
	}
	if err := e.srv.SetUnauthenticatedLimit(policy.SourceLimit{Rate: 1, Burst: 2}); err != nil {
		t.Fatal(err)
	}
	if got := len(c.answers(burst(5))); got != 2 {
		t.Fatalf("%d answers with burst 2, want 2", got)
	}
	if err := e.srv.SetUnauthenticatedLimit(policy.SourceLimit{}); err != nil {
		t.Fatal(err)
	}
	if got := len(c.answers(burst(5))); got != 5 {
		t.Fatalf("%d answers after lifting the limit, want 5", got)
	}
}
