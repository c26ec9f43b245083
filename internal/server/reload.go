package server

import (
	"errors"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/policy"
)

// ErrNilPolicy is returned by SetPolicy for a nil policy.
var ErrNilPolicy = errors.New("server: nil peer policy")

// quotaLimits are the allocation quotas in force (0: unlimited).
type quotaLimits struct{ perUser, total int }

// SetPolicy replaces the peer policy for the CreatePermission, ChannelBind
// and Connect requests that follow; the workers read it atomically. The
// permissions and channels already installed stay: RFC 8656 §9.2 and §12
// check the peer when a permission is created, not for every packet.
func (s *Server) SetPolicy(p *policy.PeerPolicy) error {
	if p == nil {
		return ErrNilPolicy
	}
	s.env.policy.Store(p)
	return nil
}

// SetQuotas replaces the allocation quotas (0 or less: unlimited) for the
// Allocate requests that follow. Live allocations stay, even beyond the
// new quotas.
func (s *Server) SetQuotas(perUser, total int) {
	s.env.quotaLimits.Store(&quotaLimits{perUser: perUser, total: total})
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

// acquireQuota counts one more allocation for owner against the quotas in
// force (RFC 8656 §7.2 step 10): allocation.ErrUserQuota over the
// per-user quota, checked first as the more specific answer,
// allocation.ErrCapacity over the total. The counts live in env.quota and
// the limits are read at each call, so that SetQuotas takes effect at
// once. Two workers racing for the last place may both be refused, never
// both admitted.
func (w *worker) acquireQuota(owner string) error {
	lim := w.env.quotaLimits.Load()
	q := w.env.quota
	if err := q.Acquire(owner); err != nil {
		return err
	}
	var err error
	switch {
	case lim.perUser > 0 && q.User(owner) > lim.perUser:
		err = allocation.ErrUserQuota
	case lim.total > 0 && q.Total() > lim.total:
		err = allocation.ErrCapacity
	default:
		return nil
	}
	q.Release(owner)
	return err
}
