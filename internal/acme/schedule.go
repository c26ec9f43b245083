package acme

import (
	"crypto/x509"
	"math/rand/v2"
	"time"
)

// renewAt is when to renew leaf: when a third of its lifetime is left
// (30 days for Let's Encrypt's 90-day certificates, as it advises; 2 days
// for its 6-day ones), less a jitter of rnd(lifetime/20), which spreads
// the renewals of nodes that share a certificate.
func renewAt(leaf *x509.Certificate, rnd func(time.Duration) time.Duration) time.Time {
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	return leaf.NotAfter.Add(-life/3 - rnd(life/20))
}

// backoff is the wait after the failures-th failure in a row: RetryMin
// doubled for each failure after the first, at most RetryMax, of which
// the first half is certain and rnd picks the rest ("equal jitter").
func backoff(failures int, lo, hi time.Duration, rnd func(time.Duration) time.Duration) time.Duration {
	d := lo
	for i := 1; i < failures && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rnd(d-d/2)
}

// randDuration returns a random duration in [0, d), 0 for d <= 0.
func randDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// noJitter is the jitter of a deterministic schedule.
func noJitter(time.Duration) time.Duration { return 0 }
