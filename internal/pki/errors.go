package pki

import "errors"

// Sentinel errors of this package; they never contain key material.
var (
	// ErrBadRequest means a certificate request is incomplete or invalid.
	ErrBadRequest = errors.New("pki: invalid certificate request")
	// ErrNoCertificate means a PEM file holds no certificate.
	ErrNoCertificate = errors.New("pki: no certificate")
	// ErrBadKeyPair means a certificate and private key cannot be used
	// together: either does not parse, or the key does not match.
	ErrBadKeyPair = errors.New("pki: invalid certificate or key")
	// ErrNotCA means a certificate cannot sign others.
	ErrNotCA = errors.New("pki: not a CA certificate")
	// ErrExists means a file that would be written exists already.
	ErrExists = errors.New("pki: file exists")
	// ErrInsecureKey means a private key file is accessible to other users.
	ErrInsecureKey = errors.New("pki: private key accessible to other users")
)
