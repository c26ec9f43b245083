package bench

import (
	"context"
	"fmt"
	"sync"
)

// churn runs cfg.Calls parallel loops of: a new socket (so a new 5-tuple,
// as a new client would have), Allocate with the 401 round trip, Refresh
// with lifetime 0 (RFC 8656 §7.1, §8), close — counting the cycles that
// complete inside the window. A fresh 5-tuple per cycle keeps servers that
// hold a deleted allocation's 5-tuple for a while (coturn answers 437) on
// equal terms with those that free it at once.
func (r *run) churn(ctx context.Context) (Result, error) {
	creds := make([]credentials, 0, r.cfg.Calls)
	for i := range r.cfg.Calls {
		cred, err := r.credentialFor(i)
		if err != nil {
			return Result{}, err
		}
		creds = append(creds, cred)
	}
	r.openWindow()
	var wg sync.WaitGroup
	for _, cred := range creds {
		wg.Go(func() {
			for r.sending() {
				if err := r.churnOnce(cred); err != nil {
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
	res.Calls = len(creds)
	res.AllocationsPerS = ptr(float64(r.churned.Load()) / r.cfg.Duration.Seconds())
	res.Errors = r.errs.snapshot()
	if len(creds) > 0 && r.churnAll.Load() == 0 {
		return res, fmt.Errorf("%w: no allocation completed: %v", ErrRejected, res.Errors)
	}
	return res, nil
}

// churnOnce allocates and deletes one allocation from a new socket.
func (r *run) churnOnce(cred credentials) error {
	c, err := newTurnClient(r.server, cred, r.cfg.Realm)
	if err != nil {
		r.errs.add("socket", err)
		return err
	}
	defer c.close()
	if _, err := c.allocate(); err != nil {
		r.errs.add("allocate", err)
		return err
	}
	if err := c.refresh(0); err != nil {
		r.errs.add("refresh", err)
		return err
	}
	return nil
}
