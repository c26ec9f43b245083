package credsvc_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/credsvctest"
	"github.com/avedge/avedge/internal/pki"
)

// certWithOtherNameSAN returns a client certificate whose subjectAltName
// extension holds only an otherName (a Microsoft UPN), with common name cn.
func certWithOtherNameSAN(t *testing.T, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	value, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true,
		Bytes: mustMarshal(t, "upn@example.com", "utf8")})
	if err != nil {
		t.Fatal(err)
	}
	upn := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}
	otherName, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true,
		Bytes: append(mustMarshal(t, upn, ""), value...)})
	if err != nil {
		t.Fatal(err)
	}
	san, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: otherName})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1_800_000_000, 0)
	tmpl := &x509.Certificate{
		SerialNumber:    big.NewInt(7),
		Subject:         pkix.Name{CommonName: cn},
		NotBefore:       start.Add(-time.Hour),
		NotAfter:        start.Add(time.Hour),
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		ExtraExtensions: []pkix.Extension{{Id: credsvc.OIDSubjectAltName, Value: san}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.DNSNames)+len(cert.IPAddresses)+len(cert.EmailAddresses)+len(cert.URIs) != 0 {
		t.Fatalf("test certificate has parsed SANs: %v %v %v %v", cert.DNSNames, cert.IPAddresses, cert.EmailAddresses, cert.URIs)
	}
	return cert
}

func mustMarshal(t *testing.T, v any, params string) []byte {
	t.Helper()
	b, err := asn1.MarshalWithParams(v, params)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAuthorizationNameRules: the common name counts only without a
// subjectAltName extension, and only as an ASCII host name.
func TestAuthorizationNameRules(t *testing.T) {
	const kelvin = "\u212a.example.com" // KELVIN SIGN, which Unicode lower-cases to 'k'
	e := newHandlerEnv(t, func(o *credsvc.Options) { o.Trusted = append(o.Trusted, "k.example.com") })
	p := e.PKI
	tests := []struct {
		name string
		cert *x509.Certificate
		part string
	}{
		{"otherName-only SAN with a trusted common name", certWithOtherNameSAN(t, credsvctest.TrustedApp), "carries no DNS name"},
		{"non-ASCII common name", &x509.Certificate{Subject: pkix.Name{CommonName: kelvin}, NotAfter: e.Clock.Now().Add(time.Hour)}, "carries no DNS name"},
		{"common name that is no host name", p.Issue(pki.ClientAuth, credsvctest.TrustedApp+" ", nil, time.Hour).Leaf, "carries no DNS name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.Clock.Advance(credsvc.RefusalLogWindow)
			w := e.do(tt.cert, http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"alice"}`)
			wantError(t, w, http.StatusForbidden, tt.part)
			if w.Header().Get("Connection") != "close" {
				t.Errorf("Connection %q, want close", w.Header().Get("Connection"))
			}
		})
	}
	// The ASCII host name "K.Example.COM" is trusted in any ASCII case.
	decodeCredential(t, e.do(p.Issue(pki.ClientAuth, "K.Example.COM", nil, time.Hour).Leaf, http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"a"}`))
}

func TestIsHostName(t *testing.T) {
	tests := []struct {
		s  string
		ok bool
	}{
		{"app.example.com", true},
		{"A-1.example.COM", true},
		{"localhost", true},
		{"", false},
		{".example.com", false},
		{"example..com", false},
		{"example.com.", false},
		{"-a.example.com", false},
		{"a-.example.com", false},
		{"a_b.example.com", false},
		{"app.example.com ", false},
		{"\u212a.example.com", false},
		{"*.example.com", false},
		{string(make([]byte, 64)), false},
	}
	for _, tt := range tests {
		if got := credsvc.IsHostName(tt.s); got != tt.ok {
			t.Errorf("isHostName(%q) = %v, want %v", tt.s, got, tt.ok)
		}
	}
}
