package auth

import "errors"

// Sentinel errors. Every 401-class error of Authenticate also matches
// ErrUnauthenticated, so a server can map: ErrBadRequest → 400;
// ErrStaleNonce or ErrBadNonce → 438 with Challenge (a fresh nonce);
// ErrUnauthenticated → 401 with Challenge.
var (
	// ErrUnauthenticated means the request is not authenticated: it carries
	// no message integrity, names another realm, or fails a check below.
	ErrUnauthenticated = errors.New("auth: unauthenticated")
	// ErrBadRequest means the request is malformed for authentication
	// (missing USERNAME, REALM or NONCE, or a PASSWORD-ALGORITHM bid-down).
	ErrBadRequest = errors.New("auth: bad request")
	// ErrBadNonce means the nonce is not one this pool issued to this client
	// transport address.
	ErrBadNonce = errors.New("auth: invalid nonce")
	// ErrStaleNonce means the nonce is genuine but older than its lifetime.
	ErrStaleNonce = errors.New("auth: stale nonce")
	// ErrExpired means an ephemeral credential's expiry has passed.
	ErrExpired = errors.New("auth: credential expired")
	// ErrRevoked means an operator revoked the credential's identity.
	ErrRevoked = errors.New("auth: identity revoked")
	// ErrTooFarAhead means an ephemeral credential expires further ahead
	// than the maximum credential lifetime.
	ErrTooFarAhead = errors.New("auth: credential expiry too far ahead")
	// ErrBadIntegrity means no candidate password produces the request's
	// message integrity.
	ErrBadIntegrity = errors.New("auth: message integrity mismatch")
	// ErrUnknownUser means the username is neither a static user nor an
	// ephemeral credential this server can check.
	ErrUnknownUser = errors.New("auth: unknown user")
	// ErrBadUsername means a username is not of the form
	// "<unix-expiry>[:<identity>]".
	ErrBadUsername = errors.New("auth: malformed ephemeral username")
	// ErrBadIdentity means an identity is empty, longer than 128 bytes, not
	// UTF-8 or contains non-printable characters.
	ErrBadIdentity = errors.New("auth: invalid identity")
	// ErrBadSecret means a secret has an empty ID or value, or repeats an ID.
	ErrBadSecret = errors.New("auth: invalid secret")
	// ErrBadUsersFile means a users file cannot be read as one
	// (ParseUsersFile).
	ErrBadUsersFile = errors.New("auth: bad users file")
	// ErrBadOptions means Options for NewAuthenticator are incomplete.
	ErrBadOptions = errors.New("auth: invalid options")
	// ErrPending means an external Hook is looking the username up: the
	// request is neither accepted nor refused yet (see Pending). It does
	// not match ErrUnauthenticated.
	ErrPending = errors.New("auth: credential lookup pending")
)
