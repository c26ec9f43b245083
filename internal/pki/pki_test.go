package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestCA(t *testing.T) *CA {
	t.Helper()
	ca, err := NewCA("test CA", start, start.Add(CAValidity))
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestNewCA(t *testing.T) {
	ca := newTestCA(t)
	c := ca.Cert
	switch {
	case !c.IsCA || !c.BasicConstraintsValid || c.MaxPathLen != 0 || !c.MaxPathLenZero:
		t.Errorf("basic constraints: IsCA %v, MaxPathLen %d", c.IsCA, c.MaxPathLen)
	case c.KeyUsage&x509.KeyUsageCertSign == 0:
		t.Errorf("key usage %v lacks cert sign", c.KeyUsage)
	case c.Subject.CommonName != "test CA" || !c.NotBefore.Equal(start) || !c.NotAfter.Equal(start.Add(CAValidity)):
		t.Errorf("subject %v, validity %v to %v", c.Subject, c.NotBefore, c.NotAfter)
	case c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128:
		t.Errorf("serial %v", c.SerialNumber)
	case len(c.SubjectKeyId) == 0:
		t.Error("no subject key identifier")
	}
	if k, ok := ca.Key.(*ecdsa.PrivateKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("key %T, want ECDSA P-256", ca.Key)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	for _, bad := range []struct {
		name     string
		from, to time.Time
	}{{"", start, start.Add(time.Hour)}, {"x", start, start}} {
		if _, err := NewCA(bad.name, bad.from, bad.to); !errors.Is(err, ErrBadRequest) {
			t.Errorf("NewCA(%q, empty period) = %v, want ErrBadRequest", bad.name, err)
		}
	}
}

func TestIssue(t *testing.T) {
	ca := newTestCA(t)
	tests := []struct {
		name  string
		req   Request
		usage x509.ExtKeyUsage
		dns   []string
		ips   []string
		cn    string
	}{
		{"server", Request{Usage: ServerAuth, Names: []string{"localhost", "127.0.0.1", "::1", "edge.example.com"}},
			x509.ExtKeyUsageServerAuth, []string{"localhost", "edge.example.com"}, []string{"127.0.0.1", "::1"}, "localhost"},
		{"client", Request{Usage: ClientAuth, Names: []string{"app.example.com"}},
			x509.ExtKeyUsageClientAuth, []string{"app.example.com"}, nil, "app.example.com"},
		{"client named by its common name only", Request{Usage: ClientAuth, CommonName: "legacy.example.com"},
			x509.ExtKeyUsageClientAuth, nil, nil, "legacy.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.NotBefore, tt.req.NotAfter = start, start.Add(LeafValidity)
			kp, err := ca.Issue(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			c := kp.Cert
			var ips []string
			for _, ip := range c.IPAddresses {
				ips = append(ips, ip.String())
			}
			switch {
			case c.IsCA || !c.BasicConstraintsValid:
				t.Error("a leaf certificate may sign")
			case !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{tt.usage}):
				t.Errorf("extended key usage %v", c.ExtKeyUsage)
			case c.KeyUsage != x509.KeyUsageDigitalSignature:
				t.Errorf("key usage %v", c.KeyUsage)
			case !slices.Equal(c.DNSNames, tt.dns) || !slices.Equal(ips, tt.ips):
				t.Errorf("SANs %q %q, want %q %q", c.DNSNames, ips, tt.dns, tt.ips)
			case c.Subject.CommonName != tt.cn:
				t.Errorf("common name %q", c.Subject.CommonName)
			case kp.Key.Curve != elliptic.P256():
				t.Error("key is not P-256")
			}
			if _, err := c.Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: start.Add(time.Hour), KeyUsages: []x509.ExtKeyUsage{tt.usage}}); err != nil {
				t.Errorf("does not chain to the CA: %v", err)
			}
			if len(tt.dns) > 0 {
				if err := c.VerifyHostname(tt.dns[0]); err != nil {
					t.Error(err)
				}
			}
			pair := kp.TLS()
			if pair.Leaf != c || len(pair.Certificate) != 1 || pair.PrivateKey != kp.Key {
				t.Error("TLS() does not hold the certificate and key")
			}
		})
	}
}

func TestIssueRefuses(t *testing.T) {
	ca := newTestCA(t)
	ok := Request{Usage: ServerAuth, Names: []string{"a"}, NotBefore: start, NotAfter: start.Add(time.Hour)}
	tests := []struct {
		name string
		mod  func(*Request)
	}{
		{"no name", func(r *Request) { r.Names = nil; r.Usage = ClientAuth }},
		{"server without SAN", func(r *Request) { r.Names = nil; r.CommonName = "a" }},
		{"empty name", func(r *Request) { r.Names = []string{"a", ""} }},
		{"unknown usage", func(r *Request) { r.Usage = 7 }},
		{"empty period", func(r *Request) { r.NotAfter = r.NotBefore }},
		{"starts before the CA", func(r *Request) { r.NotBefore = start.Add(-time.Second) }},
		{"ends after the CA", func(r *Request) { r.NotAfter = start.Add(CAValidity + time.Second) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.mod(&r)
			if _, err := ca.Issue(r); !errors.Is(err, ErrBadRequest) {
				t.Errorf("Issue = %v, want ErrBadRequest", err)
			}
		})
	}
}

func TestEncodeLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	kp, err := ca.Issue(Request{Usage: ServerAuth, Names: []string{"localhost"}, NotBefore: start, NotAfter: start.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caKey, err := EncodeKey(ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := EncodeKey(kp.Key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(leafKey), "-----BEGIN PRIVATE KEY-----\n") {
		t.Errorf("key is not PKCS #8 PEM: %.40q", leafKey)
	}
	caCert := write("ca.crt", EncodeCertificate(ca.Cert))
	caKeyFile := write("ca.key", caKey)
	chain := write("chain.crt", append(EncodeCertificate(kp.Cert), EncodeCertificate(ca.Cert)...))
	leafKeyFile := write("leaf.key", leafKey)

	pair, err := LoadKeyPair(chain, leafKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !pair.Leaf.Equal(kp.Cert) || len(pair.Certificate) != 2 {
		t.Errorf("LoadKeyPair: leaf %v, %d certificates", pair.Leaf.Subject, len(pair.Certificate))
	}
	certs, err := LoadCertificates(chain)
	if err != nil || len(certs) != 2 || !certs[1].Equal(ca.Cert) {
		t.Errorf("LoadCertificates: %d, %v", len(certs), err)
	}
	if p, err := LoadPool(caCert); err != nil || !p.Equal(ca.Pool()) {
		t.Errorf("LoadPool: %v", err)
	}
	loaded, err := LoadCA(caCert, caKeyFile)
	if err != nil || !loaded.Cert.Equal(ca.Cert) {
		t.Fatalf("LoadCA: %v", err)
	}
	if _, err := loaded.Issue(Request{Usage: ClientAuth, Names: []string{"x"}, NotBefore: start, NotAfter: start.Add(time.Hour)}); err != nil {
		t.Errorf("a loaded CA cannot issue: %v", err)
	}

	errorsTests := []struct {
		name string
		err  error
		want error
	}{
		{"key of another certificate", func() error { _, err := LoadKeyPair(chain, caKeyFile); return err }(), ErrBadKeyPair},
		{"leaf as CA", func() error { _, err := LoadCA(chain, leafKeyFile); return err }(), ErrNotCA},
		{"no certificate", func() error { _, err := LoadCertificates(leafKeyFile); return err }(), ErrNoCertificate},
		{"pool without certificate", func() error { _, err := LoadPool(leafKeyFile); return err }(), ErrNoCertificate},
		{"missing file", func() error { _, err := LoadCertificates(filepath.Join(dir, "none")); return err }(), fs.ErrNotExist},
		{"missing key", func() error { _, err := LoadKeyPair(chain, filepath.Join(dir, "none")); return err }(), fs.ErrNotExist},
		{"too large", func() error {
			_, err := LoadCertificates(write("big.crt", make([]byte, maxPEMFile+1)))
			return err
		}(), nil},
	}
	for _, tt := range errorsTests {
		if tt.err == nil || (tt.want != nil && !errors.Is(tt.err, tt.want)) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
		}
		if strings.Contains(tt.err.Error(), "PRIVATE KEY") || strings.Contains(tt.err.Error(), string(leafKey[30:60])) {
			t.Errorf("%s: error shows key material: %v", tt.name, tt.err)
		}
	}
}

func TestCheckKeyMode(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		mode os.FileMode
		ok   bool
	}{{0o600, true}, {0o400, true}, {0o640, false}, {0o644, false}, {0o604, false}} {
		p := filepath.Join(dir, "k")
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, tt.mode); err != nil {
			t.Fatal(err)
		}
		err := checkKeyMode(p)
		if tt.ok != (err == nil) || (!tt.ok && (!errors.Is(err, ErrInsecureKey) || !strings.Contains(err.Error(), "chmod 600 "+p))) {
			t.Errorf("mode %04o: %v", tt.mode, err)
		}
	}
	if err := checkKeyMode(filepath.Join(dir, "none")); err == nil || errors.Is(err, ErrInsecureKey) {
		t.Errorf("missing file: %v", err)
	}
}

// checkDev verifies a development PKI on disk: modes, and that the server
// and client certificates chain to the CA for their usage and names.
func checkDev(t *testing.T, f Files, at time.Time, serverNames []string, clientName string) {
	t.Helper()
	if info, err := os.Stat(f.Dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("directory: %v, mode %v", err, info.Mode())
	}
	for _, p := range f.all() {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o644)
		if strings.HasSuffix(p, ".key") {
			want = 0o600
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %04o, want %04o", p, info.Mode().Perm(), want)
		}
	}
	roots, err := LoadPool(f.CACert)
	if err != nil {
		t.Fatal(err)
	}
	server, err := LoadKeyPair(f.ServerCert, f.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range serverNames {
		if _, err := server.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: at}); err != nil {
			t.Errorf("server certificate for %s: %v", name, err)
		}
	}
	client, err := LoadKeyPair(f.ClientCert, f.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if !slices.Equal(client.Leaf.DNSNames, []string{clientName}) {
		t.Errorf("client names %q, want %q", client.Leaf.DNSNames, clientName)
	}
	if _, err := client.Leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: at}); err == nil {
		t.Error("the client certificate verifies as a server certificate")
	}
}

func TestWriteDev(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	f, err := WriteDev(dir, DevOptions{Now: start})
	if err != nil {
		t.Fatal(err)
	}
	checkDev(t, f, start, DevServerNames, DevClientName)
	if f != DevFiles(dir) {
		t.Errorf("files %+v", f)
	}
	before, _ := os.ReadFile(f.CAKey)

	// Existing files are kept unless Overwrite is set.
	if _, err := WriteDev(dir, DevOptions{Now: start}); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), f.CACert) {
		t.Errorf("second WriteDev = %v, want ErrExists naming %s", err, f.CACert)
	}
	if after, _ := os.ReadFile(f.CAKey); string(after) != string(before) {
		t.Error("a refused WriteDev changed the CA key")
	}
	f, err = WriteDev(dir, DevOptions{Now: start, Overwrite: true, ServerNames: []string{"edge.internal", "10.0.0.5"}, ClientName: "app.internal"})
	if err != nil {
		t.Fatal(err)
	}
	checkDev(t, f, start, []string{"edge.internal", "10.0.0.5"}, "app.internal")
	if after, _ := os.ReadFile(f.CAKey); string(after) == string(before) {
		t.Error("Overwrite kept the old CA")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 6 {
		t.Errorf("%d files in %s, want 6 (no temporary files left)", len(entries), dir)
	}
	// One existing file is enough to refuse.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, ClientKeyFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteDev(other, DevOptions{Now: start}); !errors.Is(err, ErrExists) {
		t.Errorf("WriteDev over client.key = %v", err)
	}
	if entries, _ := os.ReadDir(other); len(entries) != 1 {
		t.Errorf("refused WriteDev left %d files", len(entries))
	}
}

func TestEnsureDevCreatesAndReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "pki")
	f, err := EnsureDev(dir, start)
	if err != nil {
		t.Fatal(err)
	}
	checkDev(t, f, start, DevServerNames, DevClientName)
	snapshot := readAll(t, f)
	again, err := EnsureDev(dir, start.Add(24*time.Hour))
	if err != nil || again != f {
		t.Fatal(err)
	}
	if !maps.Equal(snapshot, readAll(t, f)) {
		t.Error("a valid development PKI was rewritten")
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("state directory holds %d entries, want only pki", len(entries))
	}
}

func TestEnsureDevRenews(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	f, err := EnsureDev(dir, start)
	if err != nil {
		t.Fatal(err)
	}
	orig := readAll(t, f)

	// Within RenewBefore of the leaf certificates' expiry: new leaves, same CA.
	later := start.Add(LeafValidity - RenewBefore + time.Hour)
	if _, err := EnsureDev(dir, later); err != nil {
		t.Fatal(err)
	}
	renewed := readAll(t, f)
	if renewed[CACertFile] != orig[CACertFile] || renewed[CAKeyFile] != orig[CAKeyFile] {
		t.Error("renewing the leaves replaced the CA")
	}
	if renewed[ServerCertFile] == orig[ServerCertFile] || renewed[ClientKeyFile] == orig[ClientKeyFile] {
		t.Error("leaves not renewed")
	}
	checkDev(t, f, later.Add(300*24*time.Hour), DevServerNames, DevClientName)

	// A missing or damaged leaf is issued again by the same CA.
	if err := os.Remove(f.ClientKey); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureDev(dir, later); err != nil {
		t.Fatal(err)
	}
	checkDev(t, f, later, DevServerNames, DevClientName)
	if readAll(t, f)[CACertFile] != orig[CACertFile] {
		t.Error("a missing leaf replaced the CA")
	}

	// Near the CA's expiry, or without its key: everything is new.
	end := start.Add(CAValidity - RenewBefore + time.Hour)
	if _, err := EnsureDev(dir, end); err != nil {
		t.Fatal(err)
	}
	checkDev(t, f, end, DevServerNames, DevClientName)
	if readAll(t, f)[CACertFile] == orig[CACertFile] {
		t.Error("CA not renewed before its expiry")
	}
	if err := os.Remove(f.CAKey); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureDev(dir, end); err != nil {
		t.Fatal(err)
	}
	checkDev(t, f, end, DevServerNames, DevClientName)
}

func TestEnsureDevRefusesInsecureKey(t *testing.T) {
	dir := t.TempDir()
	f, err := EnsureDev(dir, start)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f.ServerKey, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureDev(dir, start); !errors.Is(err, ErrInsecureKey) || !strings.Contains(err.Error(), "chmod 600 "+f.ServerKey) {
		t.Errorf("EnsureDev = %v, want ErrInsecureKey with the fix", err)
	}
}

func TestEnsureDevConcurrentFirstUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	const n = 8
	results := make(chan error, n)
	for range n {
		go func() {
			_, err := EnsureDev(dir, start)
			results <- err
		}()
	}
	for range n {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	f := DevFiles(dir)
	checkDev(t, f, start, DevServerNames, DevClientName)
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("%d entries next to the PKI, want none (temporary directories removed)", len(entries)-1)
	}
}

func readAll(t *testing.T, f Files) map[string]string {
	t.Helper()
	out := make(map[string]string)
	for _, p := range f.all() {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = string(b)
	}
	return out
}

func TestWriteDevWithCA(t *testing.T) {
	state, err := EnsureDev(filepath.Join(t.TempDir(), "state"), start)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := LoadCA(state.CACert, state.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// A CA key from an earlier run goes: it would not match.
	if err := os.WriteFile(filepath.Join(dir, CAKeyFile), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteDev(dir, DevOptions{Now: start, CA: ca}); !errors.Is(err, ErrExists) {
		t.Fatalf("WriteDev over an old CA key = %v, want ErrExists", err)
	}
	f, err := WriteDev(dir, DevOptions{Now: start, CA: ca, Overwrite: true, ClientName: "lab-client.example"})
	if err != nil {
		t.Fatal(err)
	}
	if f.CAKey != "" {
		t.Errorf("CAKey = %q, want none", f.CAKey)
	}
	if _, err := os.Stat(filepath.Join(dir, CAKeyFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ca.key: %v, want it removed", err)
	}
	got, _ := os.ReadFile(f.CACert)
	want, _ := os.ReadFile(state.CACert)
	if string(got) != string(want) {
		t.Error("ca.crt is not the given CA's certificate")
	}
	// The client certificate is trusted by whoever trusts the given CA.
	client, err := LoadKeyPair(f.ClientCert, f.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: start,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil || client.Leaf.DNSNames[0] != "lab-client.example" {
		t.Errorf("client certificate %q: %v", client.Leaf.DNSNames, err)
	}
}

// TestEnsureDevKeepsUnreadablePKI: a CA certificate that cannot be read
// (here a directory, as root ignores permissions) or parsed is an error;
// the CA key is not replaced.
func TestEnsureDevKeepsUnreadablePKI(t *testing.T) {
	tests := []struct {
		name   string
		damage func(path string) error
	}{
		{"unreadable", func(p string) error {
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.Mkdir(p, 0o700)
		}},
		{"damaged", func(p string) error { return os.WriteFile(p, []byte("not PEM"), 0o644) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pki")
			f, err := EnsureDev(dir, start)
			if err != nil {
				t.Fatal(err)
			}
			key, err := os.ReadFile(f.CAKey)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.damage(f.CACert); err != nil {
				t.Fatal(err)
			}
			if _, err := EnsureDev(dir, start); err == nil {
				t.Fatal("EnsureDev succeeded with a CA certificate it cannot use")
			}
			if after, err := os.ReadFile(f.CAKey); err != nil || string(after) != string(key) {
				t.Errorf("CA key replaced (%v)", err)
			}
		})
	}
}

// TestEnsureDevConcurrentRenewal: concurrent renewals end with matching
// keys and certificates of one CA.
func TestEnsureDevConcurrentRenewal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := EnsureDev(dir, start); err != nil {
		t.Fatal(err)
	}
	end := start.Add(CAValidity - RenewBefore + time.Hour)
	const n = 8
	results := make(chan error, n)
	for range n {
		go func() {
			_, err := EnsureDev(dir, end)
			results <- err
		}()
	}
	for range n {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	checkDev(t, DevFiles(dir), end, DevServerNames, DevClientName)
}
