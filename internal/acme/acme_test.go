package acme

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/pki"
)

// TestRenewAt checks that renewal falls when a third of the lifetime is
// left, jitter moving it earlier by at most a twentieth.
func TestRenewAt(t *testing.T) {
	nb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	leaf := &x509.Certificate{NotBefore: nb, NotAfter: nb.Add(90 * 24 * time.Hour)}
	if got, want := renewAt(leaf, noJitter), nb.Add(60*24*time.Hour); !got.Equal(want) {
		t.Fatalf("renewAt without jitter = %v, want %v", got, want)
	}
	most := func(d time.Duration) time.Duration { return d }
	if got, want := renewAt(leaf, most), nb.Add(60*24*time.Hour-90*24*time.Hour/20); !got.Equal(want) {
		t.Fatalf("renewAt with the most jitter = %v, want %v", got, want)
	}
}

// TestBackoff checks the doubling, the cap and the jitter's range.
func TestBackoff(t *testing.T) {
	lo, hi := time.Minute, 10*time.Minute
	zero := func(time.Duration) time.Duration { return 0 }
	for failures, want := range map[int]time.Duration{1: lo, 2: 2 * lo, 3: 4 * lo, 4: 8 * lo, 5: hi, 40: hi} {
		if got := backoff(failures, lo, hi, zero); got != want/2 {
			t.Errorf("backoff(%d) without jitter = %v, want %v", failures, got, want/2)
		}
		for range 100 {
			if got := backoff(failures, lo, hi, randDuration); got < want/2 || got >= want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v)", failures, got, want/2, want)
			}
		}
	}
}

// testLeaf issues a server certificate for names valid from nb to na.
func testLeaf(t *testing.T, names []string, nb, na time.Time) tls.Certificate {
	t.Helper()
	ca, err := pki.NewCA("acme test CA", nb.Add(-time.Hour), na.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.Issue(pki.Request{Usage: pki.ServerAuth, Names: names, NotBefore: nb, NotAfter: na})
	if err != nil {
		t.Fatal(err)
	}
	return kp.TLS()
}

// TestStore checks the storage: directories 0700, account key and
// certificate 0600, the account key kept across opens, and a stored
// certificate read back only while it names the domains and is valid.
func TestStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "acme")
	st, err := openStore(dir, "https://127.0.0.1:14000/dir", "turn.example.com")
	if err != nil {
		t.Fatal(err)
	}
	k1, err := st.accountKey()
	if err != nil {
		t.Fatal(err)
	}
	st2, _ := openStore(dir, "https://127.0.0.1:14000/dir", "turn.example.com")
	if k2, err := st2.accountKey(); err != nil || !k1.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k2.Public()) {
		t.Fatalf("account key changed on reopening (%v)", err)
	}
	domains := []string{"turn.example.com", "relay.example.com"}
	if _, err := st.loadCert(domains, time.Now()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("loadCert before any: %v, want not exist", err)
	}
	now := time.Now()
	c := testLeaf(t, domains, now.Add(-time.Minute), now.Add(time.Hour))
	if err := st.saveCert(c); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{dir: 0o700, st.dir: 0o700, st.keyPath: 0o600, st.certPath: 0o600} {
		info, err := os.Stat(path)
		if err != nil || info.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %04o", path, info.Mode().Perm(), err, want)
		}
	}
	if filepath.Base(st.dir) != "127.0.0.1_14000" || filepath.Base(st.certPath) != "turn.example.com.pem" {
		t.Errorf("stored as %s", st.certPath)
	}
	got, err := st.loadCert(domains, now)
	if err != nil || !got.Leaf.Equal(c.Leaf) {
		t.Fatalf("loadCert: %v", err)
	}
	if _, err := st.loadCert(append(domains, "other.example.com"), now); !errors.Is(err, ErrBadCertificate) {
		t.Fatalf("loadCert for a domain the certificate lacks: %v, want ErrBadCertificate", err)
	}
	if _, err := st.loadCert(domains, now.Add(2*time.Hour)); !errors.Is(err, ErrBadCertificate) {
		t.Fatalf("loadCert after expiry: %v, want ErrBadCertificate", err)
	}
}

// TestNewAdoptsStored checks that New hands a usable stored certificate to
// OnCertificate before anything is asked of the CA.
func TestNewAdoptsStored(t *testing.T) {
	dir := t.TempDir()
	domains := []string{"turn.example.com"}
	st, err := openStore(dir, "https://ca.example/dir", domains[0])
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := testLeaf(t, domains, now.Add(-time.Minute), now.Add(time.Hour))
	if err := st.saveCert(c); err != nil {
		t.Fatal(err)
	}
	var got []tls.Certificate
	m, err := New(Options{Domains: domains, Directory: "https://ca.example/dir", Dir: dir,
		OnCertificate: func(c tls.Certificate) { got = append(got, c) }})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if len(got) != 1 || !got[0].Leaf.Equal(c.Leaf) {
		t.Fatalf("OnCertificate got %d certificates, want the stored one", len(got))
	}
}

// TestHTTPChallenge checks the HTTP-01 handler: a pending token's key
// authorization, 404 for unknown tokens and other paths, 405 for POST.
func TestHTTPChallenge(t *testing.T) {
	m := &Manager{http: map[string]string{challengePrefix + "tok": "tok.thumb"}}
	for _, tc := range []struct {
		method, path string
		code         int
		body         string
	}{
		{http.MethodGet, challengePrefix + "tok", http.StatusOK, "tok.thumb"},
		{http.MethodGet, challengePrefix + "other", http.StatusNotFound, ""},
		{http.MethodGet, "/", http.StatusNotFound, ""},
		{http.MethodGet, "/metrics", http.StatusNotFound, ""},
		{http.MethodPost, challengePrefix + "tok", http.StatusMethodNotAllowed, ""},
	} {
		rec := httptest.NewRecorder()
		m.serveHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.code || (tc.body != "" && rec.Body.String() != tc.body) {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, rec.Code, rec.Body, tc.code, tc.body)
		}
	}
}
