package revocation

import "errors"

// Sentinel errors of the package. Errors of Revoke and Lift also match the
// sessions sentinels the admin endpoints map to status codes.
var (
	// ErrBadOptions means Options are incomplete or invalid.
	ErrBadOptions = errors.New("revocation: invalid options")
	// ErrMalformed means the revocation file is not one this package
	// reads (see the package documentation for the format).
	ErrMalformed = errors.New("revocation: malformed file")
	// ErrFull means the set already holds the most revocations it may
	// (100 000 in force); Revoke's error matches sessions.ErrUnavailable
	// too.
	ErrFull = errors.New("revocation: too many revocations")
)
