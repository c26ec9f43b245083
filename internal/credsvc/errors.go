package credsvc

import "errors"

// Sentinel errors of this package.
var (
	// ErrBadOptions means Options, ServerOptions or ClientOptions are
	// incomplete or invalid.
	ErrBadOptions = errors.New("credsvc: invalid options")
	// ErrRefused means the service answered a request with an error status.
	ErrRefused = errors.New("credsvc: request refused")
	// ErrBadResponse means the service's answer could not be understood.
	ErrBadResponse = errors.New("credsvc: invalid response")
	// ErrNoRelays means a location has no relay addresses.
	ErrNoRelays = errors.New("credsvc: no relay addresses for this location")
)
