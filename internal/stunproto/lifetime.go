package stunproto

import (
	"math"
	"time"

	"github.com/pion/stun/v3"
)

// Lifetime is the LIFETIME attribute.
//
// RFC 8656 §18.2: the duration for which the server keeps an allocation
// without a refresh, as a 4-byte unsigned number of seconds. AddTo truncates
// the duration to whole seconds.
type Lifetime struct {
	time.Duration
}

const lifetimeSize = 4

// AddTo adds LIFETIME to m. A negative duration or one above 2^32-1 seconds
// yields ErrOutOfRange.
func (l Lifetime) AddTo(m *stun.Message) error {
	secs := l.Duration / time.Second
	if secs < 0 || secs > math.MaxUint32 {
		return ErrOutOfRange
	}
	var v [lifetimeSize]byte
	be.PutUint32(v[:], uint32(secs))
	m.Add(stun.AttrLifetime, v[:])
	return nil
}

// GetFrom decodes LIFETIME from m.
func (l *Lifetime) GetFrom(m *stun.Message) error {
	v, err := m.Get(stun.AttrLifetime)
	if err != nil {
		return err
	}
	if len(v) != lifetimeSize {
		return ErrBadLength
	}
	l.Duration = time.Duration(be.Uint32(v)) * time.Second
	return nil
}
