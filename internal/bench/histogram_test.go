package bench

import (
	"math"
	"testing"
)

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for v := uint64(1); v <= 100000; v++ {
		h.Record(v)
	}
	tests := []struct {
		q    float64
		want float64
	}{
		{0, 1}, {0.5, 50000}, {0.99, 99000}, {0.999, 99900}, {1, 100000},
	}
	for _, tt := range tests {
		got := float64(h.Quantile(tt.q))
		if math.Abs(got-tt.want)/tt.want > 0.035 {
			t.Errorf("Quantile(%v) = %v, want %v within 3.5%%", tt.q, got, tt.want)
		}
	}
	if h.Count() != 100000 {
		t.Errorf("Count = %d", h.Count())
	}
}

func TestHistogramEmptyAndExtremes(t *testing.T) {
	var h Histogram
	if got := h.Quantile(0.5); got != 0 {
		t.Errorf("empty Quantile = %d", got)
	}
	h.Record(0)
	h.Record(math.MaxUint64)
	if got := h.Quantile(0); got != 0 {
		t.Errorf("Quantile(0) = %d", got)
	}
	if got := h.Quantile(1); got < math.MaxUint64/32*31 {
		t.Errorf("Quantile(1) = %d", got)
	}
}

func TestBucketRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 20, 1<<40 + 12345, math.MaxUint64} {
		i := bucketOf(v)
		lo, hi := bucketRange(i)
		if v < lo || v > hi || i >= histBuckets {
			t.Errorf("v %d: bucket %d [%d, %d]", v, i, lo, hi)
		}
		if v >= 64 && float64(hi-lo)/float64(lo) > 1.0/32 {
			t.Errorf("v %d: bucket [%d, %d] too wide", v, lo, hi)
		}
	}
}

func TestHistogramRecordAllocs(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(100, func() { h.Record(12345) }); n != 0 {
		t.Errorf("Record allocates %v times", n)
	}
}
