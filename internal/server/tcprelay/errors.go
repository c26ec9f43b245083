package tcprelay

import "errors"

// Sentinel errors of this package.
var (
	// ErrNoPending means a ConnectionBind names no pending peer
	// connection (unknown, already bound or expired).
	ErrNoPending = errors.New("tcprelay: no pending peer connection with this id")
	// ErrOtherCredentials means a ConnectionBind uses other credentials
	// than the allocation of the peer connection.
	ErrOtherCredentials = errors.New("tcprelay: connection bind with other credentials")
	// ErrPendingFull means the registry of pending peer connections is
	// full.
	ErrPendingFull = errors.New("tcprelay: too many pending peer connections")
)
