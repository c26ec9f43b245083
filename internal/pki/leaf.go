package pki

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Usage is what a leaf certificate may be used for.
type Usage int

const (
	// ServerAuth marks a TLS server certificate.
	ServerAuth Usage = iota
	// ClientAuth marks a TLS client certificate.
	ClientAuth
)

// Request describes a leaf certificate to issue.
type Request struct {
	// Usage is ServerAuth or ClientAuth.
	Usage Usage
	// CommonName is the subject's common name; it defaults to the first
	// name.
	CommonName string
	// Names are the subject alternative names: IP addresses become IP
	// SANs, anything else a DNS name. A client certificate may have none
	// and be named by its CommonName alone.
	Names []string
	// NotBefore and NotAfter bound the validity period.
	NotBefore, NotAfter time.Time
}

// KeyPair is a certificate with its private key.
type KeyPair struct {
	// Cert is the certificate.
	Cert *x509.Certificate
	// Key is its private key.
	Key *ecdsa.PrivateKey
}

// Issue creates a leaf certificate for req with a new ECDSA P-256 key,
// signed by ca. The validity period must lie within the CA's.
func (ca *CA) Issue(req Request) (*KeyPair, error) {
	cn := req.CommonName
	if cn == "" && len(req.Names) > 0 {
		cn = req.Names[0]
	}
	var usage x509.ExtKeyUsage
	switch req.Usage {
	case ServerAuth:
		usage = x509.ExtKeyUsageServerAuth
	case ClientAuth:
		usage = x509.ExtKeyUsageClientAuth
	default:
		return nil, fmt.Errorf("%w: unknown usage %d", ErrBadRequest, req.Usage)
	}
	switch {
	case cn == "":
		return nil, fmt.Errorf("%w: no name", ErrBadRequest)
	case req.Usage == ServerAuth && len(req.Names) == 0:
		return nil, fmt.Errorf("%w: a server certificate needs subject alternative names", ErrBadRequest)
	case !req.NotBefore.Before(req.NotAfter):
		return nil, fmt.Errorf("%w: empty validity period", ErrBadRequest)
	case req.NotBefore.Before(ca.Cert.NotBefore) || req.NotAfter.After(ca.Cert.NotAfter):
		return nil, fmt.Errorf("%w: validity %s to %s exceeds the CA's (%s to %s)", ErrBadRequest,
			req.NotBefore.UTC().Format(time.RFC3339), req.NotAfter.UTC().Format(time.RFC3339),
			ca.Cert.NotBefore.UTC().Format(time.RFC3339), ca.Cert.NotAfter.UTC().Format(time.RFC3339))
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             req.NotBefore,
		NotAfter:              req.NotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{usage},
		BasicConstraintsValid: true,
	}
	for _, n := range req.Names {
		if n == "" {
			return nil, fmt.Errorf("%w: empty name", ErrBadRequest)
		}
		if a, err := netip.ParseAddr(n); err == nil && a.Zone() == "" {
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(a.AsSlice()))
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	cert, err := sign(tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

// TLS returns kp as a tls.Certificate (with Leaf set) for a tls.Config.
func (kp *KeyPair) TLS() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{kp.Cert.Raw}, PrivateKey: kp.Key, Leaf: kp.Cert}
}
