// Package pki creates and loads the X.509 material of avedge's credential
// service: a development certificate authority, a server certificate for the
// service and client certificates for the trusted servers that call it.
//
// Keys are ECDSA P-256. Certificates carry their names as subject
// alternative names (DNS names and IP addresses), leaf certificates are
// restricted to server or client authentication, and the CA may sign only
// leaf certificates (path length 0). Private keys are written PKCS #8 PEM,
// mode 0600; certificates PEM, mode 0644. Time is passed in, never read, so
// that callers can inject a clock.
//
// Loading accepts what production certificate authorities issue as well
// (RSA, ECDSA or Ed25519 keys; a certificate file may hold the chain).
package pki
