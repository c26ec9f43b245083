package edge

import (
	"crypto/tls"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/pki"
	"github.com/avedge/avedge/internal/server"
	"github.com/avedge/avedge/internal/turntest"
)

// testCA issues the certificates of the watcher's tests.
type testCA struct {
	t  *testing.T
	ca *pki.CA
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	now := time.Now()
	ca, err := pki.NewCA("certwatch test CA", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{t: t, ca: ca}
}

// pair issues a server certificate valid until notAfter and returns its
// certificate and key PEM.
func (c *testCA) pair(notAfter time.Time) (certPEM, keyPEM []byte) {
	c.t.Helper()
	kp, err := c.ca.Issue(pki.Request{Usage: pki.ServerAuth, Names: []string{"turn.example.com"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: notAfter})
	if err != nil {
		c.t.Fatal(err)
	}
	key, err := pki.EncodeKey(kp.Key)
	if err != nil {
		c.t.Fatal(err)
	}
	return pki.EncodeCertificate(kp.Cert), key
}

// watched writes a certificate valid until notAfter and its key to a new
// directory and returns their files, a store loaded from them and the
// watch targets of a listener at addr serving that store.
func (c *testCA) watched(notAfter time.Time, addr string) (config.ListenerTLS, *server.CertStore, map[netip.AddrPort]certTarget) {
	c.t.Helper()
	dir := c.t.TempDir()
	files := config.ListenerTLS{CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key")}
	cert, key := c.pair(notAfter)
	replace(c.t, files.CertFile, cert)
	replace(c.t, files.KeyFile, key)
	store, err := server.LoadCertStore(files.CertFile, files.KeyFile)
	if err != nil {
		c.t.Fatal(err)
	}
	return files, store, map[netip.AddrPort]certTarget{netip.MustParseAddrPort(addr): {files: files, store: store}}
}

// replace writes b to path as a renewal tool does: a new file renamed over
// the old one.
func replace(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// serial returns the serial number of the certificate store serves.
func serial(t *testing.T, store *server.CertStore) string {
	t.Helper()
	c, err := store.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf.SerialNumber.String()
}

// serialOf returns the serial number of the certificate in PEM.
func serialOf(t *testing.T, certPEM, keyPEM []byte) string {
	t.Helper()
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf.SerialNumber.String()
}

// TestCertWatchFollowsFiles: a renewed pair is served at the next poll; a
// half-written certificate and a certificate whose key has not been
// replaced yet are not loaded (the current one stays, one warning); the
// completed renewal is then served.
func TestCertWatchFollowsFiles(t *testing.T) {
	ca := newTestCA(t)
	far := time.Now().Add(90 * 24 * time.Hour)
	files, store, targets := ca.watched(far, "127.0.0.1:5349")
	first := serial(t, store)
	var log logged
	w := newCertWatch(slog.New(&log))
	w.poll(targets, time.Now())
	if got := serial(t, store); got != first {
		t.Fatalf("serving %s after the first poll, want the loaded %s", got, first)
	}
	if lines := log.with("changed on disk"); len(lines) != 0 {
		t.Errorf("the first poll of unchanged files logged %q", lines)
	}

	c2, k2 := ca.pair(far)
	replace(t, files.CertFile, c2)
	replace(t, files.KeyFile, k2)
	w.poll(targets, time.Now())
	if got, want := serial(t, store), serialOf(t, c2, k2); got != want {
		t.Fatalf("serving %s after a renewal, want %s", got, want)
	}
	if lines := log.with("changed on disk", "serial="+serialOf(t, c2, k2)); len(lines) != 1 {
		t.Errorf("renewal logged %q", log.all())
	}

	c3, k3 := ca.pair(far)
	replace(t, files.CertFile, c3[:len(c3)/2]) // half-written
	w.poll(targets, time.Now())
	replace(t, files.CertFile, c3) // whole, but the key is still k2's
	w.poll(targets, time.Now())
	w.poll(targets, time.Now())
	if got, want := serial(t, store), serialOf(t, c2, k2); got != want {
		t.Fatalf("serving %s with a half-written or mismatched pair on disk, want the previous %s", got, want)
	}
	if lines := log.with("do not load"); len(lines) != 2 {
		t.Errorf("logged %d warnings for two bad states of the files, want 2:\n%s", len(lines), log.all())
	}
	replace(t, files.KeyFile, k3)
	w.poll(targets, time.Now())
	if got, want := serial(t, store), serialOf(t, c3, k3); got != want {
		t.Fatalf("serving %s once the renewal completed, want %s", got, want)
	}
}

// TestCertWatchWarnsBeforeExpiry: a certificate within 14 days of its
// expiry draws one warning however often it is polled, its expiry another,
// and a renewed certificate none.
func TestCertWatchWarnsBeforeExpiry(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	files, _, targets := ca.watched(now.Add(10*24*time.Hour), "127.0.0.1:443")
	var log logged
	w := newCertWatch(slog.New(&log))
	for range 3 {
		w.poll(targets, now)
	}
	if lines := log.with("WARN", "expires soon", "not_after="); len(lines) != 1 {
		t.Errorf("10 days before expiry, three polls: %q, want one warning", log.all())
	}
	w.poll(targets, now.Add(11*24*time.Hour))
	w.poll(targets, now.Add(12*24*time.Hour))
	if lines := log.with("WARN", "has expired"); len(lines) != 1 {
		t.Errorf("after expiry: %q, want one warning", log.all())
	}
	c2, k2 := ca.pair(now.Add(90 * 24 * time.Hour))
	replace(t, files.CertFile, c2)
	replace(t, files.KeyFile, k2)
	w.poll(targets, now)
	if n := len(log.with("WARN")); n != 2 {
		t.Errorf("a renewed certificate: %d warnings in all, want still 2:\n%s", n, log.all())
	}
}

// TestCertWatchUnreadable: files that cannot be read keep the current
// certificate and draw one warning until they can be read again.
func TestCertWatchUnreadable(t *testing.T) {
	ca := newTestCA(t)
	files, store, targets := ca.watched(time.Now().Add(90*24*time.Hour), "127.0.0.1:443")
	before := serial(t, store)
	var log logged
	w := newCertWatch(slog.New(&log))
	if err := os.Remove(files.KeyFile); err != nil {
		t.Fatal(err)
	}
	w.poll(targets, time.Now())
	w.poll(targets, time.Now())
	if lines := log.with("cannot read"); len(lines) != 1 {
		t.Errorf("two polls without the key file: %q, want one warning", log.all())
	}
	if got := serial(t, store); got != before {
		t.Errorf("serving %s without the key file, want the current %s", got, before)
	}
}

// TestRenewalUnderLiveEdge: replacing the certificate files of a running
// edge's TLS listener switches the certificate new handshakes get, without
// a signal, while an allocation made over TLS before the switch goes on
// (its Refresh succeeds on the same connection); /metrics reports the new
// certificate's expiry.
func TestRenewalUnderLiveEdge(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	files := config.ListenerTLS{CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key")}
	now := time.Now()
	c1, k1 := ca.pair(now.Add(60 * 24 * time.Hour).Truncate(time.Second))
	replace(t, files.CertFile, c1)
	replace(t, files.KeyFile, k1)
	cfg := loopbackDevelopment(t)
	cfg.Listeners[1].TLS = &files
	e := runEdge(t, cfg, nil)

	tlsAddr := e.relay.StreamAddrs()[0]
	dial := func() *tls.Conn {
		t.Helper()
		c, err := tls.Dial("tcp", tlsAddr.String(), &tls.Config{RootCAs: ca.ca.Pool(), ServerName: "turn.example.com"})
		if err != nil {
			t.Fatalf("TLS to the edge: %v", err)
		}
		return c
	}
	first := dial()
	if got, want := first.ConnectionState().PeerCertificates[0].SerialNumber.String(), serialOf(t, c1, k1); got != want {
		t.Fatalf("first handshake got serial %s, want %s", got, want)
	}
	s := cfg.Auth.Secrets[0]
	user, pass, err := auth.Issue(auth.Secret{ID: s.ID, Value: s.Value}, "alice", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	client := turntest.New(t, first, user, pass)
	if _, code := client.Allocate(); code != 0 {
		t.Fatalf("Allocate over TLS: %d", code)
	}

	notAfter2 := now.Add(90 * 24 * time.Hour).Truncate(time.Second)
	c2, k2 := ca.pair(notAfter2)
	replace(t, files.CertFile, c2)
	replace(t, files.KeyFile, k2)
	want := serialOf(t, c2, k2)
	// New handshakes are paced, within the per-source connection rate.
	deadline := time.Now().Add(5 * certPoll)
	pace := time.NewTicker(100 * time.Millisecond)
	defer pace.Stop()
	for ; ; <-pace.C {
		c := dial()
		got := c.ConnectionState().PeerCertificates[0].SerialNumber.String()
		c.Close()
		if got == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("new handshakes still get serial %s %v after the files were replaced, want %s", got, 5*certPoll, want)
		}
	}
	if code := client.Refresh(10 * time.Minute); code != 0 {
		t.Fatalf("Refresh of the allocation made before the switch, on its connection: %d", code)
	}
	certs := listenerCertificates{e}.Certificates()
	if len(certs) != 1 || !certs[0].NotAfter.Equal(notAfter2) {
		t.Errorf("certificates for /metrics %+v, want one expiring %v", certs, notAfter2)
	}
}
