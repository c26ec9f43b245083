package proxyproto

import "errors"

// Sentinel errors of this package; Read wraps them with the detail.
var (
	// ErrNoHeader means the connection does not begin with a PROXY
	// protocol signature of either version.
	ErrNoHeader = errors.New("proxyproto: no PROXY protocol header")
	// ErrMalformed means a header began with a signature but breaks the
	// protocol's grammar or bounds.
	ErrMalformed = errors.New("proxyproto: malformed PROXY protocol header")
	// ErrUnsupported means a well-formed version 2 header that describes
	// something other than a stream connection (UDP, for instance).
	ErrUnsupported = errors.New("proxyproto: unsupported PROXY protocol header")
)
