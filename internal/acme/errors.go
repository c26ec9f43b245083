package acme

import "errors"

// Errors of this package, which wrapped errors match with errors.Is.
var (
	// ErrNoChallenge is returned to a TLS-ALPN-01 handshake for a name
	// without a pending challenge.
	ErrNoChallenge = errors.New("acme: no pending TLS-ALPN-01 challenge")
	// ErrNoUsableChallenge is an authorization that offers neither
	// TLS-ALPN-01 nor (with an HTTP address) HTTP-01.
	ErrNoUsableChallenge = errors.New("acme: no usable challenge offered")
	// ErrBadCertificate is a certificate, issued or stored, that does not
	// name every domain or is not valid now.
	ErrBadCertificate = errors.New("acme: unusable certificate")
	// ErrOptions is a Manager's options that are incomplete.
	ErrOptions = errors.New("acme: bad options")
)

// ErrBadKey is a stored account key that is not a PEM PKCS #8 signing key.
var ErrBadKey = errors.New("acme: bad account key")
