package records

import "time"

// warnEvery is the least time between two warnings of one kind.
const warnEvery = time.Minute

// limiter allows an event at most once per interval.
type limiter struct {
	every time.Duration
	last  time.Time
	used  bool
}

// allow reports whether an event may happen at now, and if so remembers it.
func (l *limiter) allow(now time.Time) bool {
	if l.used && now.Sub(l.last) < l.every {
		return false
	}
	l.last, l.used = now, true
	return true
}
