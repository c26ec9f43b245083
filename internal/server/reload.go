package server

import (
	"errors"
	"net/netip"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/policy"
)

// ErrNilPolicy is returned by SetPolicy for a nil policy.
var ErrNilPolicy = errors.New("server: nil peer policy")

// quotaLimits are the allocation and port quotas in force (0: unlimited):
// the default tenant's per user, and the server's in total (see
// tenantTable for the other tenants').
type quotaLimits struct{ perUser, total, ports int }

// errPortQuota means an Allocate would take its user beyond
// Options.PortsPerUser.
var errPortQuota = errors.New("server: relay ports per user quota reached")

// SetPolicy replaces the peer policy for the CreatePermission, ChannelBind
// and Connect requests that follow; the workers read it atomically. The
// permissions and channels already installed stay: RFC 8656 §9.2 and §12
// check the peer when a permission is created, not for every packet, and
// they expire within minutes unless refreshed, when they are checked
// again. RFC 6062 peer connections, which live as long as their peers
// keep them open, are cut at once where the new policy denies their peer
// (each worker cuts its own, soon after SetPolicy returns).
func (s *Server) SetPolicy(p *policy.PeerPolicy) error {
	if p == nil {
		return ErrNilPolicy
	}
	s.env.policy.Store(p)
	s.cutEverywhere(func(w *worker, sess *session, peer netip.AddrPort) bool {
		return !w.env.tenants.peerAllowed(p, sess.owner, peer.Addr())
	}, "the reloaded peer policy denies their peers")
	return nil
}

// peerDenied reports whether the peer of an allocation of s may no longer
// be reached.
type peerDenied func(w *worker, s *session, peer netip.AddrPort) bool

// cutEverywhere has every worker cut its RFC 6062 peer connections and
// take away its offloaded channels whose peer denied reports (why says
// why, in the log); it returns once each has, or has stopped.
func (s *Server) cutEverywhere(denied peerDenied, why string) {
	for _, wl := range s.workers {
		if !doOn(wl.dp, func() { wl.w.cutDenied(denied, why); wl.w.offloadDenied(denied) }, s.env.tcp.ctx.Done()) {
			s.env.log.Warn("peer connections of a denied peer not cut: the worker stopped")
		}
	}
}

// cutDenied closes the RFC 6062 peer connections of w's allocations whose
// peer denied reports.
func (w *worker) cutDenied(denied peerDenied, why string) {
	cut := 0
	w.table.Range(func(a *allocation.Allocation) bool {
		s := a.Relay.(*session)
		t := s.tcp
		if t == nil {
			return true
		}
		for peer, pc := range t.conns {
			if denied(w, s, peer) {
				pc.Shutdown()
				w.env.tcp.pending.Remove(pc.PeerConn)
				delete(t.conns, peer)
				cut++
			}
		}
		return true
	})
	if cut > 0 {
		w.env.log.Info("peer connections cut: "+why, "count", cut)
	}
}

// SetSelf replaces the edge's own addresses (Options.Self), for addresses
// the host gained or lost while it runs; the requests and Send indications
// that follow are checked against them, and RFC 6062 peer connections and
// offloaded channels to an address that became the edge's own (off the
// relay ports) are cut at once, as SetPolicy cuts denied ones.
func (s *Server) SetSelf(self []netip.Addr) {
	rule := s.env.peers.Load().withSelf(self)
	s.env.peers.Store(rule)
	s.cutEverywhere(func(_ *worker, _ *session, peer netip.AddrPort) bool { return rule.selfRefused(peer) },
		"the edge's own addresses now include their peers")
}

// Quotas are the allocation and relay port quotas that SetQuotas
// replaces; 0 or less sets no limit.
type Quotas struct {
	// AllocationsPerUser and AllocationsTotal are the allocations one user
	// (486) and the server (508) may hold; see Options.
	AllocationsPerUser, AllocationsTotal int
	// PortsPerUser bounds the relay ports one user holds (486); see
	// Options.PortsPerUser.
	PortsPerUser int
}

// SetQuotas replaces the quotas for the Allocate requests that follow.
// Live allocations and reservations stay, even beyond the new quotas.
func (s *Server) SetQuotas(q Quotas) {
	s.env.quotaLimits.Store(&quotaLimits{perUser: q.AllocationsPerUser, total: q.AllocationsTotal, ports: q.PortsPerUser})
}

// SetUnauthenticatedLimit replaces the per-source limit of
// unauthenticated requests (see Options.UnauthenticatedLimit) with new,
// empty, buckets. It builds every worker's limiter first, so an invalid
// limit changes nothing; each worker takes its new limiter before the
// next request it handles (see worker.takeLimit).
func (s *Server) SetUnauthenticatedLimit(lim policy.SourceLimit) error {
	limiters := make([]*policy.SourceLimiter, len(s.workers))
	for i := range s.workers {
		l, err := newSourceLimiter(lim, s.env.clock)
		if err != nil {
			return err
		}
		limiters[i] = l
	}
	for i, wl := range s.workers {
		wl.w.nextLimit.Store(&limitSwap{limit: limiters[i]})
	}
	return nil
}

// limitSwap carries a worker's next limiter; nil limit: no limit.
type limitSwap struct{ limit *policy.SourceLimiter }

// takeLimit installs the limiter SetUnauthenticatedLimit left for w, if
// any. It runs on w's goroutine before each request: one atomic load of a
// pointer written only on reloads.
func (w *worker) takeLimit() {
	if next := w.nextLimit.Swap(nil); next != nil {
		w.limit = next.limit
	}
}

// acquireQuota counts one more allocation holding ports relay ports for
// owner against the quotas in force (RFC 8656 §7.2 step 10), those of
// owner's tenant (see quotaOwner) and the server's:
// allocation.ErrUserQuota over the per-user quota, checked first as the
// more specific answer, then errPortQuota over the ports per user (plus
// slack, see portsNeeded), then allocation.ErrCapacity over the tenant's
// total or the server's. The counts live in env.quota and env.tenants and
// the limits are read at each call, so that SetQuotas takes effect at
// once. Two workers racing for the last place may both be refused, never
// both admitted.
func (w *worker) acquireQuota(owner string, ports, slack int) error {
	lim := w.env.quotaLimits.Load()
	t := ownerTenant(owner)
	own := lim
	if t != 0 {
		own = &w.env.tenants.limits[t]
	}
	q := w.env.quota
	if err := q.Acquire(owner, ports); err != nil {
		return err
	}
	n := w.env.tenants.allocations[t].Add(1)
	var err error
	switch {
	case own.perUser > 0 && q.User(owner) > own.perUser:
		err = allocation.ErrUserQuota
	case own.ports > 0 && q.Ports(owner) > own.ports+slack:
		err = errPortQuota
	case t != 0 && own.total > 0 && n > int64(own.total):
		err = allocation.ErrCapacity
	case lim.total > 0 && q.Total() > lim.total:
		err = allocation.ErrCapacity
	default:
		return nil
	}
	w.releaseQuota(owner, ports)
	return err
}

// releaseQuota gives back an allocation of owner holding ports relay
// ports that acquireQuota counted.
func (w *worker) releaseQuota(owner string, ports int) {
	w.env.quota.Release(owner, ports)
	w.env.tenants.allocations[ownerTenant(owner)].Add(-1)
}

// portsNeeded returns how many relay ports an Allocate of owner for plan
// counts against its quota: one per relayed address it asks for (a dual
// allocation two, when IPv6 is offered), plus one for the port reserved
// with EVEN-PORT R=1, which stays counted until its token is claimed or
// it expires. An Allocate with a RESERVATION-TOKEN counts the reserved
// port as its own from the moment it claims it, when the reservation's
// owner stops counting it; slack is 1 when that owner is owner itself, so
// that a user at its limit can claim its own reservation (the count
// passes the limit by one only between the check and the claim).
func (w *worker) portsNeeded(plan allocPlan, owner string) (ports, slack int) {
	switch {
	case plan.token != nil:
		if o, ok := w.env.owners.ownerOf(*plan.token); ok && o == owner {
			slack = 1
		}
		return 1, slack
	case plan.additional && w.env.families[famV6].offered():
		return 2, 0
	case plan.choice == evenPair:
		return 2, 0
	default:
		return 1, 0
	}
}
