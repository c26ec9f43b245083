package server

import (
	"errors"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/server/stats"
)

// authResultOf classifies an error of auth.Authenticator.Authenticate. A
// bare auth.ErrUnauthenticated is a request without integrity (the
// challenge); one wrapped without a more specific error names another
// realm, counted as an unknown user.
func authResultOf(err error) stats.AuthResult {
	switch {
	case err == nil:
		return stats.AuthOK
	case err == auth.ErrUnauthenticated: // unwrapped: no integrity at all
		return stats.AuthChallenge
	case errors.Is(err, auth.ErrBadRequest):
		return stats.AuthBadRequest
	case errors.Is(err, auth.ErrStaleNonce):
		return stats.AuthStaleNonce
	case errors.Is(err, auth.ErrBadNonce):
		return stats.AuthBadNonce
	case errors.Is(err, auth.ErrExpired):
		return stats.AuthExpiredCredential
	case errors.Is(err, auth.ErrRevoked):
		return stats.AuthRevoked
	case errors.Is(err, auth.ErrTooFarAhead):
		return stats.AuthExpiryTooFarAhead
	case errors.Is(err, auth.ErrBadIntegrity):
		return stats.AuthBadIntegrity
	default: // auth.ErrUnknownUser, or a realm that is not ours
		return stats.AuthUnknownUser
	}
}

// authOK is how a request that authenticated as res counts: AuthPastExpiry
// when it passed on its allocation after its credential expired.
func authOK(res auth.Result) stats.AuthResult {
	if res.PastExpiry {
		return stats.AuthPastExpiry
	}
	return stats.AuthOK
}
