package bench

import (
	"context"
	"fmt"
	"time"
)

// progress prints one line per second to cfg.Progress until the returned
// function is called, which waits for the printer to stop.
func (r *run) progress(ctx context.Context) (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var sent, peer, back, churn uint64
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			phase := "measuring"
			now := r.now()
			switch {
			case now < r.winStart.Load():
				phase = "warm-up"
			case now >= r.winEnd.Load():
				phase = "draining"
			}
			s, p, b, c := r.sentAll.Load(), r.toPeerAll.Load(), r.recvAll.Load(), r.churnAll.Load()
			elapsed := time.Duration(now - r.winStart.Load()).Truncate(time.Second)
			if r.cfg.Mode == ModeChurn {
				fmt.Fprintf(r.cfg.Progress, "%s %v: %d allocations/s, errors %v\n", phase, elapsed, c-churn, r.errs.snapshot())
			} else {
				fmt.Fprintf(r.cfg.Progress, "%s %v: sent %d/s, at peer %d/s, back %d/s, p99 %.0f us\n",
					phase, elapsed, s-sent, p-peer, b-back, float64(r.hist.Quantile(0.99))/1e3)
			}
			sent, peer, back, churn = s, p, b, c
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}
