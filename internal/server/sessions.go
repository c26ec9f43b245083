package server

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/sessions"
)

// Sessions returns the live allocations that f selects, oldest first, as
// the admin endpoints list them. Each worker describes its own, on its
// goroutine; ctx bounds the wait (sessions.ErrUnavailable).
func (s *Server) Sessions(ctx context.Context, f sessions.Filter) ([]sessions.Session, error) {
	per := make([][]sessions.Session, len(s.workers))
	err := s.onWorkers(ctx, func(i int, w *worker) {
		now := w.env.clock.Now()
		w.table.Range(func(a *allocation.Allocation) bool {
			sess := a.Relay.(*session)
			// Past its lifetime it ends on the next tick, unless it
			// lives with its connection ([MS-TURN] over TCP: the tick
			// re-arms it); listing changes nothing.
			if sess.alloc.Expired(now) && (sess.ms == nil || sess.client.conn == nil) {
				return true
			}
			info := w.describe(sess, now)
			if f.Match(&info) {
				per[i] = append(per[i], info)
			}
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	out := slices.Concat(per...)
	slices.SortFunc(out, func(a, b sessions.Session) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// EndSession ends the live allocation id, as an operator asks: its relays
// close, a TCP or TLS client's connection too, and its record says
// "ended by operator". An id of no live allocation is sessions.ErrNotFound.
func (s *Server) EndSession(ctx context.Context, id string) error {
	n, err := strconv.ParseUint(id, 16, 64)
	if err != nil || len(id) != 16 {
		return fmt.Errorf("%w: session %q", sessions.ErrNotFound, id)
	}
	ended := make([]int, len(s.workers))
	err = s.onWorkers(ctx, func(i int, w *worker) {
		ended[i] = w.endWhere(func(sess *session) bool { return sess.id == n }, stats.EndOperator)
	})
	if err != nil {
		return err
	}
	if sum(ended) == 0 {
		return fmt.Errorf("%w: session %q", sessions.ErrNotFound, id)
	}
	return nil
}

// EndIdentity ends every live allocation of identity (the identity its
// credential names, or a static user's name), in every tenant, for
// reason, as EndSession ends one, and returns how many it ended.
func (s *Server) EndIdentity(ctx context.Context, identity string, reason stats.EndReason) (int, error) {
	return s.endWhere(ctx, func(sess *session) bool { return ownerIdentity(sess.owner) == identity }, reason)
}

// EndTenantIdentity is EndIdentity for the identity of one tenant, by
// name (auth.DefaultTenant, or one of Options.Auth's tenants); an unknown
// tenant is ErrUnknownTenant.
func (s *Server) EndTenantIdentity(ctx context.Context, tenant, identity string, reason stats.EndReason) (int, error) {
	t := slices.Index(s.env.tenants.names, tenant)
	if t < 0 {
		return 0, fmt.Errorf("%w: %q", ErrUnknownTenant, tenant)
	}
	owner := quotaOwner(&auth.Result{Identity: identity, TenantIndex: t})
	return s.endWhere(ctx, func(sess *session) bool { return sess.owner == owner }, reason)
}

// endWhere ends, on every worker, the live allocations that match for
// reason, and returns how many it ended.
func (s *Server) endWhere(ctx context.Context, match func(*session) bool, reason stats.EndReason) (int, error) {
	ended := make([]int, len(s.workers))
	err := s.onWorkers(ctx, func(i int, w *worker) {
		ended[i] = w.endWhere(match, reason)
	})
	if err != nil {
		return 0, err
	}
	return sum(ended), nil
}

// onWorkers runs fn on every worker's goroutine, with the worker's index,
// and waits until all have run it or ctx ends; a worker whose queue is
// full is asked again (doOn). fn may write only to what belongs to its
// index, and after an error it may still run: the caller must not read
// what it writes then.
func (s *Server) onWorkers(ctx context.Context, fn func(i int, w *worker)) error {
	done := make(chan struct{}, len(s.workers))
	for i, wl := range s.workers {
		if !doOn(wl.dp, func() { fn(i, wl.w); done <- struct{}{} }, ctx.Done()) {
			return fmt.Errorf("%w: worker %d stopped or %v", sessions.ErrUnavailable, i, context.Cause(ctx))
		}
	}
	for range s.workers {
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", sessions.ErrUnavailable, ctx.Err())
		}
	}
	return nil
}

// endWhere ends, for reason, the allocations of w that match, closing the
// connections of TCP and TLS clients, and returns how many.
func (w *worker) endWhere(match func(*session) bool, reason stats.EndReason) int {
	var found []*session
	w.table.Range(func(a *allocation.Allocation) bool {
		if s := a.Relay.(*session); match(s) {
			found = append(found, s)
		}
		return true
	})
	for _, s := range found {
		w.closeSession(s, reason)
		if c := s.client.conn; c != nil {
			_ = c.c.Close()
		}
	}
	if len(found) > 0 {
		w.env.log.Info("allocations ended", "reason", reason.String(), "count", len(found))
	}
	return len(found)
}

// describe returns what an operator sees of s at now.
func (w *worker) describe(s *session, now time.Time) sessions.Session {
	a := s.alloc
	k := s.kind()
	info := sessions.Session{
		ID:              formatSessionID(s.id),
		User:            a.Username,
		Identity:        ownerIdentity(s.owner),
		Tenant:          w.env.tenants.names[ownerTenant(s.owner)],
		Dialect:         k.Dialect().String(),
		Transport:       k.Transport().String(),
		RelayProtocol:   k.Relay().String(),
		Client:          a.FiveTuple.Client,
		Start:           time.Unix(0, s.start),
		Expires:         a.Expires(),
		ToPeerPackets:   a.Counters.ToPeerPackets.Load() + s.pend.toPeerPackets,
		ToPeerBytes:     a.Counters.ToPeerBytes.Load() + s.pend.toPeerBytes,
		ToClientPackets: a.Counters.ToClientPackets.Load() + s.pend.toClientPackets,
		ToClientBytes:   a.Counters.ToClientBytes.Load() + s.pend.toClientBytes,
		BandwidthCap:    w.env.bw.caps[ownerTenant(s.owner)].perAlloc.Rate(),
		Relayed:         []netip.AddrPort{},
		Peers:           []sessions.Peer{},
	}
	for _, r := range []netip.AddrPort{a.Relayed, a.Additional} {
		if r.IsValid() {
			info.Relayed = append(info.Relayed, r)
		}
	}
	a.Permissions(now, func(ip netip.Addr, expires time.Time) {
		info.Peers = append(info.Peers, sessions.Peer{Address: ip, Expires: expires})
	})
	a.Channels(now, func(num uint16, peer netip.AddrPort, _ time.Time) {
		ip := peer.Addr().Unmap()
		for i := range info.Peers {
			if info.Peers[i].Address == ip {
				info.Peers[i].Channels = append(info.Peers[i].Channels, sessions.Channel{Number: num, Peer: peer})
				return
			}
		}
	})
	slices.SortFunc(info.Peers, func(x, y sessions.Peer) int { return x.Address.Compare(y.Address) })
	return info
}

// formatSessionID is the text of a session ID: 16 hexadecimal digits.
func formatSessionID(id uint64) string { return fmt.Sprintf("%016x", id) }

// sum adds up n.
func sum(n []int) int {
	t := 0
	for _, v := range n {
		t += v
	}
	return t
}
