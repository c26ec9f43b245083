package credsvc

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"slices"
)

// oidSubjectAltName is the subjectAltName extension (RFC 5280 §4.2.1.6).
var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

// clientNames returns the DNS names that identify the holder of a client
// certificate, in ASCII lower case: its DNS subject alternative names, or,
// only when it has no subjectAltName extension at all, its common name
// when that is a valid ASCII host name (RFC 6125 §6.4.4 applies the same
// rule to server names). A certificate with a subjectAltName extension of
// other kinds only (IP addresses, e-mail addresses, URIs, otherName) has
// no DNS name, whatever its common name.
func clientNames(cert *x509.Certificate) []string {
	if slices.ContainsFunc(cert.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(oidSubjectAltName) }) {
		out := make([]string, 0, len(cert.DNSNames))
		for _, n := range cert.DNSNames {
			if isHostName(n) {
				out = append(out, asciiLower(n))
			}
		}
		return out
	}
	if !isHostName(cert.Subject.CommonName) {
		return nil
	}
	return []string{asciiLower(cert.Subject.CommonName)}
}

// isHostName reports whether s is an ASCII DNS host name: dot-separated
// labels of 1 to 63 letters, digits and hyphens, not starting or ending
// with a hyphen, at most 253 bytes in all (RFC 1123 §2.1).
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if label == 0 || s[i-1] == '-' {
				return false
			}
			label = 0
			continue
		case c == '-':
			if label == 0 {
				return false
			}
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		default:
			return false
		}
		label++
		if label > 63 {
			return false
		}
	}
	return label > 0 && s[len(s)-1] != '-'
}

// asciiLower lower-cases the ASCII letters of s and nothing else: Unicode
// case folding would let, for example, U+212A KELVIN SIGN match 'k'.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
