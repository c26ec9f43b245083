package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server/stats"
)

// Directions of relayed traffic, each capped on its own (as coturn's
// max-bps treats input and output separately).
const (
	dirToPeer = iota
	dirToClient
	directions
)

// bandwidth holds the bandwidth caps in force and the per-user buckets.
// The caps are set once, by New (see set); the zero value caps nothing.
type bandwidth struct {
	caps  []bwCaps  // by tenant (see tenantTable)
	on    bool      // a cap is set: the fast path checks the buckets
	epoch time.Time // origin of the buckets' and capacity's nanoseconds

	mu    sync.Mutex
	users map[string]*userBandwidth
}

// bwCaps are the bandwidth caps of one tenant's allocations and users.
type bwCaps struct{ perAlloc, perUser policy.Bandwidth }

// userBandwidth is the shared bucket pair of one user's allocations, which
// may live on different workers.
type userBandwidth struct {
	buckets [directions]policy.SharedBucket
	refs    int // allocations holding it, under bandwidth.mu
}

// set sets the caps of each tenant, before the workers run; epoch is
// the time the buckets count nanoseconds from.
func (b *bandwidth) set(caps []bwCaps, epoch time.Time) {
	b.caps = caps
	b.on = false
	for _, c := range caps {
		b.on = b.on || !c.perAlloc.Off() || !c.perUser.Off()
	}
	b.epoch = epoch
	b.users = make(map[string]*userBandwidth)
}

// capped reports whether the tenant of owner caps bandwidth, per
// allocation or per user.
func (b *bandwidth) capped(owner string) bool {
	c := b.caps[ownerTenant(owner)]
	return !c.perAlloc.Off() || !c.perUser.Off()
}

// acquire returns the buckets of owner, shared with owner's other
// allocations, or nil when owner's tenant sets no per-user cap. Each
// acquire is paired with a release.
func (b *bandwidth) acquire(owner string) *userBandwidth {
	if b.caps[ownerTenant(owner)].perUser.Off() {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.users[owner]
	if u == nil {
		u = new(userBandwidth)
		b.users[owner] = u
	}
	u.refs++
	return u
}

// release drops one reference to owner's buckets; the last one forgets
// them. A nil u is ignored.
func (b *bandwidth) release(owner string, u *userBandwidth) {
	if u == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if u.refs--; u.refs == 0 && b.users[owner] == u {
		delete(b.users, owner)
	}
}

// allowBandwidth reports whether n payload bytes that s relays in
// direction dir at now fit its allocation's and its user's caps (those of
// its tenant), and
// counts a drop on s when they do not. The time is the one the forwarder
// already read for the expiry checks. Cost: nothing but a flag test with
// no caps; a few integer operations on the allocation's own bucket (owned
// by this worker: no lock, no atomic) with a per-allocation cap; one
// atomic load and compare-and-swap on the user's bucket for a user with a
// cap. Bytes admitted by the allocation's bucket and then refused by the
// user's stay counted against the allocation, which errs on the side of
// the cap.
func (w *worker) allowBandwidth(s *session, dir, n int, now time.Time) bool {
	bw := &w.env.bw
	if !bw.on {
		return true
	}
	t, caps := int64(now.Sub(bw.epoch)), &bw.caps[ownerTenant(s.owner)]
	if s.bw[dir].Allow(&caps.perAlloc, n, t) && (s.user == nil || s.user.buckets[dir].Allow(&caps.perUser, n, t)) {
		return true
	}
	w.p.drop(stats.DropBandwidth)
	w.touch(s)
	s.pend.bandwidthDrops++
	return false
}

// capacity refuses new allocations while the relayed bandwidth, sampled
// by the workers' ticks over about a second, is above a limit.
type capacity struct {
	limit    uint64 // bytes per second; 0: no limit
	counters []*counters

	mu        sync.Mutex
	lastNs    int64 // when the last sample was taken, in bandwidth.epoch ns
	lastBytes uint64
	over      atomic.Bool
}

// sample measures the relayed bandwidth since the last sample, if a second
// has passed, and sets over. Any worker's Tick may call it; one that finds
// another sampling returns at once.
func (c *capacity) sample(now int64) {
	if c.limit == 0 || !c.mu.TryLock() {
		return
	}
	defer c.mu.Unlock()
	elapsed := now - c.lastNs
	if elapsed < int64(time.Second) {
		return
	}
	var bytes uint64
	for _, ctr := range c.counters {
		bytes += ctr.toPeerBytes.Load() + ctr.toClientBytes.Load()
	}
	rate := float64(bytes-c.lastBytes) * float64(time.Second) / float64(elapsed)
	c.over.Store(rate > float64(c.limit))
	c.lastNs, c.lastBytes = now, bytes
}

// overCapacity reports whether new allocations are refused for lack of
// bandwidth (RFC 8656 §7.2 step 10: 508 Insufficient Capacity).
func (e *shared) overCapacity() bool { return e.capacity.over.Load() }
