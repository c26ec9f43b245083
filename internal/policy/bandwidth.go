package policy

import (
	"fmt"
	"sync/atomic"
)

// MaxBandwidth is the highest rate a Bandwidth accepts, in bytes per
// second (100 Gbit/s): it keeps every figure of the buckets within int64
// nanoseconds.
const MaxBandwidth = 12_500_000_000

// MinBurst is the smallest burst of a Bandwidth, in bytes: one datagram of
// the largest size the relay forwards, so that a capped allocation can
// always relay a full-size packet.
const MinBurst = 65536

// Bandwidth is a byte rate and a burst shared by every bucket it caps. The
// buckets implement a token bucket in its "virtual scheduling" form (the
// generic cell rate algorithm): instead of a token count refilled from the
// clock, a bucket keeps the theoretical time tat at which it would be full
// again; a packet of n bytes conforms when tat, moved forward by the n
// bytes' transmission time at the rate, lies no more than the burst's time
// ahead of now. This holds one integer per bucket, needs no division per
// packet, and admits at most rate×elapsed + burst bytes over any interval.
// The zero Bandwidth is off: it admits everything.
type Bandwidth struct {
	psPerByte uint64 // picoseconds per byte, rounded up; 0: off
	burstNs   int64  // the burst's transmission time
	rate      uint64 // bytes per second, as given
}

// NewBandwidth returns a cap of bytesPerSecond with a burst of burst bytes,
// raised to MinBurst; a burst of 0 means one second's worth. A rate of 0
// returns the zero Bandwidth (off). A rate above MaxBandwidth or a burst
// above ten seconds' worth is an ErrBandwidth.
func NewBandwidth(bytesPerSecond, burst uint64) (Bandwidth, error) {
	if bytesPerSecond == 0 {
		return Bandwidth{}, nil
	}
	if bytesPerSecond > MaxBandwidth {
		return Bandwidth{}, fmt.Errorf("%w: %d bytes/s exceeds %d", ErrBandwidth, bytesPerSecond, uint64(MaxBandwidth))
	}
	if burst == 0 {
		burst = bytesPerSecond
	}
	burst = max(burst, MinBurst)
	if burst > 10*max(bytesPerSecond, MinBurst) {
		return Bandwidth{}, fmt.Errorf("%w: burst of %d bytes exceeds ten seconds at %d bytes/s", ErrBandwidth, burst, bytesPerSecond)
	}
	ps := (1_000_000_000_000 + bytesPerSecond - 1) / bytesPerSecond
	// burst ≤ 10 × MaxBandwidth and ps ≤ 10¹²/MinBurst keep this in range.
	return Bandwidth{psPerByte: ps, burstNs: int64(burst * ps / 1000), rate: bytesPerSecond}, nil
}

// Off reports whether b caps nothing.
func (b Bandwidth) Off() bool { return b.psPerByte == 0 }

// Rate is the cap in bytes per second; 0 when off.
func (b Bandwidth) Rate() uint64 { return b.rate }

// cost is the transmission time of n bytes at b's rate, in nanoseconds,
// rounded up so that the cap is never exceeded.
func (b *Bandwidth) cost(n int) int64 {
	return int64((uint64(n)*b.psPerByte + 999) / 1000)
}

// Bucket is the state of one token bucket capped by a Bandwidth, for a
// single goroutine: no locks and no atomics. The zero Bucket is full.
type Bucket struct {
	tat int64 // when the bucket is full again, in the caller's nanoseconds
}

// Allow reports whether n more bytes at now conform to b, and if so
// counts them. now is a monotonic time in nanoseconds, not below 0 and
// never going back; a Bandwidth that is off allows everything at no cost.
func (k *Bucket) Allow(b *Bandwidth, n int, now int64) bool {
	if b.psPerByte == 0 {
		return true
	}
	tat := max(k.tat, now) + b.cost(n)
	if tat-now > b.burstNs {
		return false
	}
	k.tat = tat
	return true
}

// SharedBucket is a token bucket capped by a Bandwidth that several
// goroutines draw from, such as the allocations of one user on different
// workers. Allow costs one atomic load and one compare-and-swap (retried
// only when another goroutine drew at the same moment); it takes no lock.
// The zero SharedBucket is full.
type SharedBucket struct {
	tat atomic.Int64
}

// Allow is Bucket.Allow for concurrent callers.
func (k *SharedBucket) Allow(b *Bandwidth, n int, now int64) bool {
	if b.psPerByte == 0 {
		return true
	}
	cost := b.cost(n)
	for {
		old := k.tat.Load()
		tat := max(old, now) + cost
		if tat-now > b.burstNs {
			return false
		}
		if k.tat.CompareAndSwap(old, tat) {
			return true
		}
	}
}

// Reserve counts n bytes at now against k and returns how long, in
// nanoseconds, the caller must wait before sending them so that they
// conform to b (0: at once). It shapes rather than polices: a stream
// such as an RFC 6062 TCP data connection cannot drop bytes, so it waits
// instead. Safe for concurrent callers, like Allow; a Bandwidth that is off
// costs nothing and never waits.
func (k *SharedBucket) Reserve(b *Bandwidth, n int, now int64) int64 {
	if b.psPerByte == 0 {
		return 0
	}
	cost := b.cost(n)
	for {
		old := k.tat.Load()
		tat := max(old, now) + cost
		if k.tat.CompareAndSwap(old, tat) {
			return max(tat-now-b.burstNs, 0)
		}
	}
}
