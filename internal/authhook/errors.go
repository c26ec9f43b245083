package authhook

import "errors"

// Sentinel errors. The refusals of Client.Credential match ErrRefused.
var (
	// ErrRefused means the service refused the username (403 or 404), or
	// could not be asked and the username is refused (fail closed): the
	// errors below wrap it.
	ErrRefused = errors.New("authhook: refused")
	// ErrFailed means the lookup failed: a timeout, a refused connection,
	// an unexpected status or body. The username is refused.
	ErrFailed = errors.New("authhook: lookup failed")
	// ErrOverloaded means Options.MaxInflight lookups were under way: the
	// username is refused without asking.
	ErrOverloaded = errors.New("authhook: too many lookups under way")
	// ErrClosed means the Client was closed.
	ErrClosed = errors.New("authhook: closed")
	// ErrBadOptions means Options for New are invalid.
	ErrBadOptions = errors.New("authhook: invalid options")
)
