// Package acme obtains and renews the certificate of a TLS listener from an
// ACME certificate authority (RFC 8555) such as Let's Encrypt, with
// golang.org/x/crypto/acme.
//
// A Manager holds one certificate naming all of its domains. It answers
// the CA's TLS-ALPN-01 challenges (RFC 8737) through ChallengeCertificate,
// which the listener's TLS configuration calls for ClientHellos offering
// "acme-tls/1", so that the listener's own port (443) suffices; with an
// HTTP address it also runs a small HTTP server for HTTP-01 on port 80,
// and prefers that challenge. DNS-01 (and so wildcard names) is not
// supported.
//
// The account key and the certificate (chain and key, one PEM file) are
// kept in a directory, files 0600 and directories 0700, one subdirectory
// per CA; a stored certificate that names the domains and has not expired
// is served at once at start. Run obtains one when there is none and
// renews it when two thirds of its lifetime have passed (less a jitter
// of up to a twentieth of the lifetime), re-reading the directory first
// so that nodes sharing it adopt a certificate another node renewed;
// failures are logged and retried with exponential back-off and jitter.
// Every certificate obtained or adopted is handed to Options.OnCertificate.
package acme
