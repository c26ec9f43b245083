package bench

import (
	"errors"
	"strconv"
	"sync"
)

// errCounts counts failures by reason; failures are rare, so a mutex will do.
type errCounts struct {
	mu sync.Mutex
	m  map[string]uint64
}

// add counts err under op and a short reason: the STUN error code, timeout,
// or error.
func (e *errCounts) add(op string, err error) {
	reason := "error"
	var rej *rejection
	switch {
	case errors.As(err, &rej):
		reason = strconv.Itoa(int(rej.code))
	case errors.Is(err, ErrTimeout):
		reason = "timeout"
	}
	e.addN(op+": "+reason, 1)
}

// addN adds n under key.
func (e *errCounts) addN(key string, n uint64) {
	if n == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = make(map[string]uint64)
	}
	e.m[key] += n
}

// snapshot returns a copy of the counts.
func (e *errCounts) snapshot() map[string]uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]uint64, len(e.m))
	for k, v := range e.m {
		out[k] = v
	}
	return out
}
