package credsvc

import (
	"crypto/x509"
	"strings"
)

// clientNames returns the DNS names that identify the holder of a client
// certificate, in lower case: its DNS subject alternative names, or, only
// when it has no subject alternative name at all, its common name (RFC 6125
// §6.4.4 applies the same rule to server names).
func clientNames(cert *x509.Certificate) []string {
	if len(cert.DNSNames) > 0 {
		out := make([]string, len(cert.DNSNames))
		for i, n := range cert.DNSNames {
			out[i] = strings.ToLower(n)
		}
		return out
	}
	if len(cert.IPAddresses) > 0 || len(cert.EmailAddresses) > 0 || len(cert.URIs) > 0 || cert.Subject.CommonName == "" {
		return nil
	}
	return []string{strings.ToLower(cert.Subject.CommonName)}
}
