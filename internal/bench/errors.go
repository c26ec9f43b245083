package bench

import "errors"

var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("bench: invalid configuration")
	// ErrTimeout reports a STUN transaction that got no answer in time.
	ErrTimeout = errors.New("bench: transaction timed out")
	// ErrRejected reports a request that the server answered with an error.
	ErrRejected = errors.New("bench: request rejected")
	// ErrProc reports a /proc file that could not be read or parsed.
	ErrProc = errors.New("bench: cannot read process statistics")
)
