package sessions

import "errors"

// Sentinel errors of a Controller; the admin endpoints map them to HTTP
// status codes (404, 400, 400, 503).
var (
	// ErrNotFound means no live session has the ID, or no revocation
	// names the identity.
	ErrNotFound = errors.New("sessions: not found")
	// ErrBadIdentity means an identity is empty, longer than 128 bytes,
	// not UTF-8 or holds non-printable characters.
	ErrBadIdentity = errors.New("sessions: invalid identity")
	// ErrBadRequest means another argument is malformed (an ID that is not
	// one, an "until" in the past).
	ErrBadRequest = errors.New("sessions: bad request")
	// ErrUnavailable means the relay did not answer in time (its workers
	// are busy or stopping) or the revocations could not be stored.
	ErrUnavailable = errors.New("sessions: unavailable")
)
