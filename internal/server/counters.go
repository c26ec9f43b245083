package server

import (
	"sync/atomic"

	"github.com/avedge/avedge/internal/server/stats"
)

// counters are one worker's published figures. Only the owning worker
// writes them, once per round (worker.EndRound); any goroutine may read
// them, so they are atomics on lines no other worker writes.
type counters struct {
	toPeerPackets   atomic.Uint64
	toPeerBytes     atomic.Uint64
	toClientPackets atomic.Uint64
	toClientBytes   atomic.Uint64
	requests        atomic.Uint64
	drops           [stats.NumDropReasons]atomic.Uint64
	// The control path's counts, bumped directly (once per request, never
	// per relayed packet): live allocations and those created by kind,
	// those ended by reason, authentication results and refusals.
	allocations [stats.NumAllocationKinds]atomic.Int64
	created     [stats.NumAllocationKinds]atomic.Uint64
	ended       [stats.NumEndReasons]atomic.Uint64
	auth        [stats.NumAuthResults]atomic.Uint64
	refusals    [stats.NumRefusalCauses]atomic.Uint64
	// channelBinds counts ChannelBind requests granted, by range.
	channelBinds [stats.NumChannelRanges]atomic.Uint64
	// tenants splits allocations, created and ended by tenant (indexed
	// as tenantTable), for the tenant label; its own allocation, made
	// by newWorker.
	tenants []tenantCounters
	_       [64]byte // keep the next worker's counters off this cache line
}

// tenantCounters are one tenant's share of a worker's allocation counts.
type tenantCounters struct {
	allocations [stats.NumAllocationKinds]atomic.Int64
	created     [stats.NumAllocationKinds]atomic.Uint64
	ended       [stats.NumEndReasons]atomic.Uint64
}

// tally is what a worker counted since it last published: plain fields
// that the handlers bump per packet on the worker goroutine, added to the
// counters once per round.
type tally struct {
	toPeerPackets, toPeerBytes     uint64
	toClientPackets, toClientBytes uint64
	requests                       uint64
	drops                          [stats.NumDropReasons]uint64
}

func (t *tally) drop(r stats.DropReason) { t.drops[r]++ }

// publish adds t to c and clears t.
func (t *tally) publish(c *counters) {
	for _, f := range [...]struct {
		n   uint64
		ctr *atomic.Uint64
	}{
		{t.toPeerPackets, &c.toPeerPackets},
		{t.toPeerBytes, &c.toPeerBytes},
		{t.toClientPackets, &c.toClientPackets},
		{t.toClientBytes, &c.toClientBytes},
		{t.requests, &c.requests},
	} {
		if f.n != 0 {
			f.ctr.Add(f.n)
		}
	}
	for r, n := range t.drops {
		if n != 0 {
			c.drops[r].Add(n)
		}
	}
	*t = tally{}
}

// sessionTally is what a session relayed since its worker last published
// it to the allocation's Counters.
type sessionTally struct {
	toPeerPackets, toPeerBytes     uint64
	toClientPackets, toClientBytes uint64
	bandwidthDrops                 uint64
	dirty                          bool // listed in worker.dirty
}

// publish adds what s relayed since the last call to its allocation's
// Counters.
func (s *session) publish() {
	p, c := &s.pend, &s.alloc.Counters
	if p.toPeerPackets != 0 {
		c.ToPeerPackets.Add(p.toPeerPackets)
		c.ToPeerBytes.Add(p.toPeerBytes)
	}
	if p.toClientPackets != 0 {
		c.ToClientPackets.Add(p.toClientPackets)
		c.ToClientBytes.Add(p.toClientBytes)
	}
	if p.bandwidthDrops != 0 {
		c.BandwidthDrops.Add(p.bandwidthDrops)
	}
	s.pend = sessionTally{}
}

// touch lists s for the next EndRound, once.
func (w *worker) touch(s *session) {
	if !s.pend.dirty {
		s.pend.dirty = true
		w.dirty = append(w.dirty, s)
	}
}

// EndRound implements datapath.Handler: it publishes the worker's and the
// sessions' counts of the round.
func (w *worker) EndRound() {
	w.p.publish(&w.c)
	for i, s := range w.dirty {
		s.publish()
		w.dirty[i] = nil
	}
	w.dirty = w.dirty[:0]
}

// addCounters adds the counters of one worker to s.
func addCounters(s *stats.Stats, c *counters) {
	s.ToPeerPackets += c.toPeerPackets.Load()
	s.ToPeerBytes += c.toPeerBytes.Load()
	s.ToClientPackets += c.toClientPackets.Load()
	s.ToClientBytes += c.toClientBytes.Load()
	s.Requests += c.requests.Load()
	for k := range c.allocations {
		n := c.allocations[k].Load()
		s.AllocationsByKind[k] += n
		s.Allocations += n
		s.AllocationsCreated[k] += c.created[k].Load()
	}
	for r := range c.ended {
		s.AllocationsEnded[r] += c.ended[r].Load()
	}
	for r := range c.auth {
		s.Auth[r] += c.auth[r].Load()
	}
	for r := range c.refusals {
		s.Refusals[r] += c.refusals[r].Load()
	}
	for r := range c.channelBinds {
		s.ChannelBinds[r] += c.channelBinds[r].Load()
	}
	for i := range s.Drops {
		s.Drops[i] += c.drops[i].Load()
	}
	for t := range c.tenants {
		ct, st := &c.tenants[t], &s.Tenants[t]
		for k := range ct.allocations {
			st.AllocationsByKind[k] += ct.allocations[k].Load()
			st.AllocationsCreated[k] += ct.created[k].Load()
		}
		for r := range ct.ended {
			st.AllocationsEnded[r] += ct.ended[r].Load()
		}
	}
}

// allocationCreated counts s as a new allocation of its kind.
func (w *worker) allocationCreated(s *session) {
	k := s.kind()
	s.counted = k
	w.c.allocations[k].Add(1)
	w.c.created[k].Add(1)
	t := &w.c.tenants[ownerTenant(s.owner)]
	t.allocations[k].Add(1)
	t.created[k].Add(1)
}

// allocationChanged moves s to the kind it has now (a dual allocation that
// gave up one family).
func (w *worker) allocationChanged(s *session) {
	if k := s.kind(); k != s.counted {
		w.c.allocations[s.counted].Add(-1)
		w.c.allocations[k].Add(1)
		t := &w.c.tenants[ownerTenant(s.owner)]
		t.allocations[s.counted].Add(-1)
		t.allocations[k].Add(1)
		s.counted = k
	}
}

// allocationEnded counts s as ended for reason.
func (w *worker) allocationEnded(s *session, reason stats.EndReason) {
	w.c.allocations[s.counted].Add(-1)
	w.c.ended[reason].Add(1)
	t := &w.c.tenants[ownerTenant(s.owner)]
	t.allocations[s.counted].Add(-1)
	t.ended[reason].Add(1)
}
