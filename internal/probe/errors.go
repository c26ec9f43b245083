package probe

import "errors"

// Sentinel errors of this package.
var (
	// ErrBadURI means a URI is not an RFC 7065 TURN or RFC 7064 STUN URI
	// the probe can test.
	ErrBadURI = errors.New("probe: invalid URI")
	// ErrBadOptions means Options are incomplete or contradictory.
	ErrBadOptions = errors.New("probe: invalid options")
	// ErrCredential means a credential could not be fetched or understood.
	ErrCredential = errors.New("probe: credential")
	// ErrTimeout means the edge did not answer in time.
	ErrTimeout = errors.New("probe: no answer")
	// ErrProtocol means the edge answered with something the probe could
	// not understand.
	ErrProtocol = errors.New("probe: invalid answer")
)
