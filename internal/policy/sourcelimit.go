package policy

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math/bits"
	"net/netip"

	"github.com/avedge/avedge/internal/clock"
)

// ErrBadSourceLimit is returned by NewSourceLimiter for a rate, burst or
// table size that cannot make a limiter.
var ErrBadSourceLimit = errors.New("policy: invalid source limit")

// SourceLimit is a token bucket per source: Rate tokens are added every
// second, up to Burst; each limited event takes one. The zero value (Rate
// 0) means no limit.
type SourceLimit struct {
	Rate  float64
	Burst int
}

// Enabled reports whether l limits anything.
func (l SourceLimit) Enabled() bool { return l.Rate > 0 }

// sourceWays is the associativity of the limiter's table: a source lives
// in one of the sourceWays slots of the bucket its key hashes to.
const sourceWays = 4

// sourceKey is what a source is known by: an IPv4 address (in the low 32
// bits) or the /64 prefix of an IPv6 address.
type sourceKey struct {
	prefix uint64
	v6     bool
}

// sourceSlot is one entry of the table (24 bytes).
type sourceSlot struct {
	prefix uint64
	last   int64 // Unix nanoseconds of the last check; 0 for an empty slot
	tokens float32
	v6     bool
}

// SourceLimiter rate-limits events per source address with a token bucket
// per source. A source is an IPv4 address, or an IPv6 /64 prefix (one
// subscriber or host typically gets a whole /64, RFC 6177, so limiting per
// /128 would let one host use 2^64 buckets); an IPv4-mapped IPv6 address
// counts as its IPv4 address.
//
// The table has a fixed number of slots, allocated once (24 bytes a slot),
// so a flood from random sources cannot exhaust memory. It is a hash table
// of buckets of four slots, hashed with a per-limiter random seed so that
// nobody can aim sources at one bucket. A source that has no slot takes
// the least recently seen slot of its bucket. The trade-off: a slot is
// refilled whenever it is checked, so a source that keeps sending keeps its
// slot fresh and is not evicted by a flood of other sources unless the
// flood brings four new sources to its bucket between two of its packets
// (at 65,536 slots and one packet a second from the limited source, more
// than 65,000 new sources a second). A source that was evicted starts
// over with a full burst: under such a flood the limit degrades to one
// burst per eviction, never to unbounded answers, and never to refusing a
// source that was not limited. A slot whose bucket is full again holds no
// information, so evicting it loses nothing.
//
// A SourceLimiter is not safe for concurrent use: each packet worker owns
// one (no locks on the request path), so with several workers a source is
// limited per worker it reaches.
type SourceLimiter struct {
	rate  float64 // tokens per nanosecond
	burst float64
	clk   clock.Clock
	seed  maphash.Seed
	slots []sourceSlot
	mask  uint64 // number of buckets - 1
}

// NewSourceLimiter returns a limiter for lim holding at least entries
// sources (rounded up to a power of two), reading time from clk (nil means
// the wall clock).
func NewSourceLimiter(lim SourceLimit, entries int, clk clock.Clock) (*SourceLimiter, error) {
	const maxEntries = 1 << 24
	switch {
	case !(lim.Rate > 0) || lim.Rate > 1e9:
		return nil, fmt.Errorf("%w: rate %g: must be above 0 and at most 1e9 a second", ErrBadSourceLimit, lim.Rate)
	case lim.Burst < 1:
		return nil, fmt.Errorf("%w: burst %d: must be at least 1", ErrBadSourceLimit, lim.Burst)
	case entries < 1 || entries > maxEntries:
		return nil, fmt.Errorf("%w: %d entries: must be between 1 and %d", ErrBadSourceLimit, entries, maxEntries)
	}
	if clk == nil {
		clk = clock.Real{}
	}
	buckets := max(1, (entries+sourceWays-1)/sourceWays)
	buckets = 1 << bits.Len(uint(buckets-1))
	return &SourceLimiter{
		rate:  lim.Rate / 1e9,
		burst: float64(lim.Burst),
		clk:   clk,
		seed:  maphash.MakeSeed(),
		slots: make([]sourceSlot, buckets*sourceWays),
		mask:  uint64(buckets - 1),
	}, nil
}

// Allow takes a token from src's bucket and reports whether there was one.
// It does not allocate.
func (l *SourceLimiter) Allow(src netip.Addr) bool {
	key := keyOf(src)
	now := l.clk.Now().UnixNano()
	b := int(maphash.Comparable(l.seed, key)&l.mask) * sourceWays
	bucket := l.slots[b : b+sourceWays : b+sourceWays]
	victim := 0
	for i := range bucket {
		s := &bucket[i]
		if s.last != 0 && s.prefix == key.prefix && s.v6 == key.v6 {
			return l.take(s, now)
		}
		if s.last < bucket[victim].last {
			victim = i
		}
	}
	bucket[victim] = sourceSlot{prefix: key.prefix, v6: key.v6, last: now, tokens: float32(l.burst)}
	return l.take(&bucket[victim], now)
}

// take refills s up to now and takes one token if it has one.
func (l *SourceLimiter) take(s *sourceSlot, now int64) bool {
	tokens := float64(s.tokens)
	if elapsed := now - s.last; elapsed > 0 {
		tokens = min(l.burst, tokens+float64(elapsed)*l.rate)
	}
	// A clock reading of exactly 0 would look like an empty slot.
	s.last = max(now, 1)
	if tokens < 1 {
		s.tokens = float32(tokens)
		return false
	}
	s.tokens = float32(tokens - 1)
	return true
}

// keyOf returns the key of src: its IPv4 address (IPv4-mapped IPv6
// addresses included) or its IPv6 /64 prefix. The zero Addr counts as
// 0.0.0.0.
func keyOf(src netip.Addr) sourceKey {
	src = src.Unmap()
	if !src.IsValid() {
		return sourceKey{}
	}
	if src.Is4() {
		a := src.As4()
		return sourceKey{prefix: uint64(a[0])<<24 | uint64(a[1])<<16 | uint64(a[2])<<8 | uint64(a[3])}
	}
	a := src.As16()
	var p uint64
	for _, c := range a[:8] {
		p = p<<8 | uint64(c)
	}
	return sourceKey{prefix: p, v6: true}
}
