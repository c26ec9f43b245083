package bench

import (
	"context"
	"fmt"
)

// Rate search: flood with a loss bound. Each step is a complete flood run
// (its own allocations, warm-up and window) at a fixed rate per
// allocation; the rate doubles from Config.Rate while runs pass, then
// bisects between the highest pass and the lowest failure.

const (
	// defaultSearchStart is the first rate per allocation when Config.Rate
	// is 0.
	defaultSearchStart = 1000
	// defaultSearchSteps is the number of bisection steps when
	// Config.SearchSteps is 0.
	defaultSearchSteps = 4
	// maxSearchRate bounds the doubling, in packets/s per allocation.
	maxSearchRate = 1000000
	// minOffered is the share of the offered rate a run must actually
	// send to pass: below it, the load generator, not the server, set the
	// pace.
	minOffered = 0.9
)

// search runs flood steps and returns the result of the fastest run whose
// loss stayed within cfg.MaxLoss, or, when even the first rate failed, that
// first run's result. Result.MaxLoss and Result.RatePerCall say which.
func search(ctx context.Context, cfg Config, step func(context.Context, Config) (Result, error)) (Result, error) {
	rate := cfg.Rate
	if rate == 0 {
		rate = defaultSearchStart
	}
	steps := cfg.SearchSteps
	if steps == 0 {
		steps = defaultSearchSteps
	}
	var best, first *Result
	lo, hi := 0, 0
	try := func(rate int) (bool, error) {
		one := cfg
		one.Rate, one.MaxLoss = rate, 0
		res, err := step(ctx, one)
		if err != nil {
			return false, err
		}
		res.RatePerCall, res.MaxLoss = ptr(float64(rate)), ptr(cfg.MaxLoss)
		ok := passes(res, cfg)
		if cfg.Progress != nil {
			verdict := "over the bound"
			if ok {
				verdict = "within the bound"
			}
			fmt.Fprintf(cfg.Progress, "search: %d allocations x %d packets/s: loss %.4f%%, %s\n",
				cfg.Calls, rate, 100*deref(res.Loss), verdict)
		}
		if first == nil {
			first = &res
		}
		if ok {
			best = &res
		}
		return ok, nil
	}
	for hi == 0 {
		ok, err := try(rate)
		if err != nil {
			return Result{}, err
		}
		switch {
		case !ok:
			hi = rate
		case rate*2 > maxSearchRate:
			return *best, nil
		default:
			lo, rate = rate, rate*2
		}
	}
	for range steps {
		if lo == 0 {
			break
		}
		mid := (lo + hi) / 2
		if mid == lo || mid == hi {
			break
		}
		ok, err := try(mid)
		if err != nil {
			return Result{}, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	if best != nil {
		return *best, nil
	}
	return *first, nil
}

// passes reports whether a step's loss stayed within cfg.MaxLoss and the
// load generator offered what it was asked to.
func passes(res Result, cfg Config) bool {
	if res.Loss == nil || res.Sent == nil || *res.Loss > cfg.MaxLoss {
		return false
	}
	offered := *res.RatePerCall * float64(res.Calls) * res.DurationS
	return float64(*res.Sent) >= minOffered*offered
}

// deref returns *p, or 0 for nil.
func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
