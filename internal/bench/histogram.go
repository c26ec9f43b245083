package bench

import (
	"math/bits"
	"sync/atomic"
)

// subBits is log2 of the number of sub-buckets per power of two: 32
// sub-buckets bound a value's relative error to about 3%.
const subBits = 5

// subCount is the number of sub-buckets per power of two.
const subCount = 1 << subBits

// histBuckets covers every uint64: values below 2*subCount have their own
// bucket, then each power of two up to 2^63 has subCount buckets.
const histBuckets = (64-subBits)*subCount + subCount

// Histogram is a fixed-size log-linear histogram of non-negative values
// (HDR-style): exact below 64, then 32 buckets per power of two. Record is
// safe for concurrent use and allocation-free.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	total  atomic.Uint64
}

// bucketOf returns the bucket index of v.
func bucketOf(v uint64) int {
	if v < 2*subCount {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1
	return e*subCount + int(v>>uint(e))
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < 2*subCount {
		return uint64(i), uint64(i)
	}
	e := i/subCount - 1
	m := uint64(i - e*subCount)
	return m << uint(e), (m+1)<<uint(e) - 1
}

// Record adds one value.
func (h *Histogram) Record(v uint64) {
	h.counts[bucketOf(v)].Add(1)
	h.total.Add(1)
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Quantile returns an estimate of the q-quantile (0 <= q <= 1) of the
// recorded values, the midpoint of the bucket holding it, and 0 when the
// histogram is empty.
func (h *Histogram) Quantile(q float64) uint64 {
	var counts [histBuckets]uint64
	var total uint64
	for i := range counts {
		counts[i] = h.counts[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(q*float64(total-1)) + 1
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			return lo + (hi-lo)/2
		}
	}
	return 0
}
