package netx

import "errors"

// Sentinel errors of this package.
var (
	// ErrBadLimits means a Limiter was asked for limits below 1.
	ErrBadLimits = errors.New("netx: limits must be at least 1")
	// ErrTotalLimit means a connection was refused because the total
	// limit was reached.
	ErrTotalLimit = errors.New("netx: too many connections")
	// ErrSourceLimit means a connection was refused because its source
	// address reached its limit.
	ErrSourceLimit = errors.New("netx: too many connections from this source")
)
