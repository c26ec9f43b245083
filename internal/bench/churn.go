package bench

import (
	"context"
	"fmt"
	"sync"
)

// churn runs cfg.Calls loops of Allocate (with the 401 round trip) and
// Refresh with lifetime 0 (RFC 8656 §7.1, §8), counting the cycles that
// complete inside the window.
func (r *run) churn(ctx context.Context) (Result, error) {
	clients := make([]*turnClient, 0, r.cfg.Calls)
	defer func() {
		for _, c := range clients {
			_ = c.close()
		}
	}()
	for i := range r.cfg.Calls {
		cred, err := r.credentialFor(i)
		if err != nil {
			return Result{}, err
		}
		c, err := newTurnClient(r.server, cred, r.cfg.Realm)
		if err != nil {
			return Result{}, err
		}
		clients = append(clients, c)
	}
	r.openWindow()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			for r.sending() {
				if _, err := c.allocate(); err != nil {
					r.errs.add("allocate", err)
					continue
				}
				if err := c.refresh(0); err != nil {
					r.errs.add("refresh", err)
					continue
				}
				r.churnAll.Add(1)
				if r.inWindow(r.now()) {
					r.churned.Add(1)
				}
			}
		})
	}
	stopProgress := r.progress(ctx)
	res, err := r.measure(ctx)
	wg.Wait()
	stopProgress()
	if err != nil {
		return Result{}, err
	}
	res.Calls = len(clients)
	res.AllocationsPerS = ptr(float64(r.churned.Load()) / r.cfg.Duration.Seconds())
	res.Errors = r.errs.snapshot()
	if len(clients) > 0 && r.churnAll.Load() == 0 {
		return res, fmt.Errorf("%w: no allocation completed: %v", ErrRejected, res.Errors)
	}
	return res, nil
}
