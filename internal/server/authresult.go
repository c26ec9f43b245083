package server

import (
	"errors"

	"github.com/avedge/avedge/internal/auth"
)

// AuthResult is the outcome of checking a request's credentials (RFC 8489
// §9.2.4), the label of the auth results metric.
type AuthResult uint8

// The outcomes of authentication. Requests dropped unanswered for their
// source's rate limit are not authenticated: they count as drops.
const (
	AuthOK                AuthResult = iota // authenticated
	AuthChallenge                           // no MESSAGE-INTEGRITY: 401 with REALM and NONCE
	AuthStaleNonce                          // a genuine nonce past its lifetime: 438
	AuthBadNonce                            // a nonce minted for another client address, or forged: 438
	AuthUnknownUser                         // a username neither static nor a valid ephemeral one, or another realm: 401
	AuthBadIntegrity                        // the HMAC does not match any password: 401
	AuthExpiredCredential                   // an ephemeral credential past its expiry: 401
	AuthExpiryTooFarAhead                   // an ephemeral credential expiring beyond the maximum lifetime: 401
	AuthBadRequest                          // USERNAME, REALM or NONCE missing, or a bid-down: 400
	authResults
)

var authNames = [authResults]string{
	AuthOK:                "ok",
	AuthChallenge:         "challenge",
	AuthStaleNonce:        "stale_nonce",
	AuthBadNonce:          "bad_nonce",
	AuthUnknownUser:       "unknown_user",
	AuthBadIntegrity:      "bad_integrity",
	AuthExpiredCredential: "expired_credential",
	AuthExpiryTooFarAhead: "expiry_too_far_ahead",
	AuthBadRequest:        "bad_request",
}

// String returns the metric label of the result.
func (r AuthResult) String() string {
	if r >= authResults {
		return "unknown"
	}
	return authNames[r]
}

// authResultOf classifies an error of auth.Authenticator.Authenticate. A
// bare auth.ErrUnauthenticated is a request without integrity (the
// challenge); one wrapped without a more specific error names another
// realm, counted as an unknown user.
func authResultOf(err error) AuthResult {
	switch {
	case err == nil:
		return AuthOK
	case err == auth.ErrUnauthenticated: // unwrapped: no integrity at all
		return AuthChallenge
	case errors.Is(err, auth.ErrBadRequest):
		return AuthBadRequest
	case errors.Is(err, auth.ErrStaleNonce):
		return AuthStaleNonce
	case errors.Is(err, auth.ErrBadNonce):
		return AuthBadNonce
	case errors.Is(err, auth.ErrExpired):
		return AuthExpiredCredential
	case errors.Is(err, auth.ErrTooFarAhead):
		return AuthExpiryTooFarAhead
	case errors.Is(err, auth.ErrBadIntegrity):
		return AuthBadIntegrity
	default: // auth.ErrUnknownUser, or a realm that is not ours
		return AuthUnknownUser
	}
}
