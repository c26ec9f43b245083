package main

import (
	"math"
	"slices"
)

// Spread is the median and range of one figure over rounds.
type Spread struct {
	Median, Min, Max float64
	N                int
}

// spread summarises the values that get returns (nil = absent in that run).
func spread(runs []Record, get func(Record) *float64) (Spread, bool) {
	var vs []float64
	for _, r := range runs {
		if v := get(r); v != nil && !math.IsNaN(*v) {
			vs = append(vs, *v)
		}
	}
	if len(vs) == 0 {
		return Spread{}, false
	}
	slices.Sort(vs)
	m := vs[len(vs)/2]
	if len(vs)%2 == 0 {
		m = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	return Spread{Median: m, Min: vs[0], Max: vs[len(vs)-1], N: len(vs)}, true
}

// sum adds two optional figures (nil if either is absent).
func sum(a, b *float64) *float64 {
	if a == nil || b == nil {
		return nil
	}
	s := *a + *b
	return &s
}

// perAllocation is the memory a run's allocations added, per allocation.
func perAllocation(r Record) *float64 {
	if r.Result.RSS == nil || r.BaselineRSS == nil || r.Result.Calls == nil || *r.Result.Calls <= 0 {
		return nil
	}
	v := (*r.Result.RSS - *r.BaselineRSS) / *r.Result.Calls
	return &v
}
