package pebble

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/avedge/avedge/e2e/internal/loopback"
	"github.com/avedge/avedge/e2e/internal/proc"
)

// startTimeout bounds the wait for each of Pebble's ports.
const startTimeout = 20 * time.Second

// CA is a running Pebble.
type CA struct {
	// Directory is the https URL of the ACME directory.
	Directory string
	// CARoots is the PEM file of the CA of Pebble's own HTTPS (minica), for
	// an ACME client's ca_roots.
	CARoots string
	// Root is Pebble's issuing root, from its management API; RootPEM the
	// same in PEM.
	Root    *x509.CertPool
	RootPEM []byte
}

// Options are what Start needs to know.
type Options struct {
	// TLSPort and HTTPPort are the ports of 127.0.0.1 on which Pebble
	// validates TLS-ALPN-01 and HTTP-01 challenges.
	TLSPort, HTTPPort int
	// Validity is the lifetime of the certificates Pebble issues.
	Validity time.Duration
}

// Start runs pebble-challtestsrv (DNS only, every name 127.0.0.1) and
// Pebble as o says; both stop when the test ends.
func Start(t testing.TB, o Options) *CA {
	t.Helper()
	bin, mod := build(t)
	dir := t.TempDir()
	dns := fmt.Sprintf("127.0.0.1:%d", loopback.FreePort(t))
	chall := fmt.Sprintf("127.0.0.1:%d", loopback.FreePort(t))
	proc.Start(t, "", nil, filepath.Join(bin, "pebble-challtestsrv"), "-dnsserver", dns, "-management", chall,
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "", "-defaultIPv6", "")
	loopback.WaitTCP(t, chall, startTimeout)

	listen := fmt.Sprintf("127.0.0.1:%d", loopback.FreePort(t))
	mgmt := fmt.Sprintf("127.0.0.1:%d", loopback.FreePort(t))
	var cfg struct {
		Pebble map[string]any `json:"pebble"`
	}
	cfg.Pebble = map[string]any{
		"listenAddress": listen, "managementListenAddress": mgmt,
		"certificate": filepath.Join(mod, "test/certs/localhost/cert.pem"), "privateKey": filepath.Join(mod, "test/certs/localhost/key.pem"),
		"httpPort": o.HTTPPort, "tlsPort": o.TLSPort, "ocspResponderURL": "", "keyAlgorithm": "ecdsa",
		"retryAfter": map[string]int{"authz": 1, "order": 1},
		"profiles":   map[string]any{"default": map[string]any{"description": "short", "validityPeriod": int(o.Validity / time.Second)}},
	}
	b, _ := json.Marshal(cfg)
	conf := filepath.Join(dir, "pebble.json")
	if err := os.WriteFile(conf, b, 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	proc.Start(t, "", env, filepath.Join(bin, "pebble"), "-config", conf, "-dnsserver", dns)
	loopback.WaitTCP(t, listen, startTimeout)
	loopback.WaitTCP(t, mgmt, startTimeout)

	ca := &CA{Directory: "https://" + listen + "/dir", CARoots: filepath.Join(mod, "test/certs/pebble.minica.pem")}
	ca.RootPEM = fetchRoot(t, ca.CARoots, mgmt)
	ca.Root = x509.NewCertPool()
	ca.Root.AppendCertsFromPEM(ca.RootPEM)
	return ca
}

// fetchRoot returns Pebble's issuing root from its management API on
// mgmt, whose HTTPS certificate comes from the CA in the PEM file minica.
func fetchRoot(t testing.TB, minica, mgmt string) []byte {
	t.Helper()
	pemCA, err := os.ReadFile(minica)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemCA)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := hc.Get("https://" + mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	root, err := io.ReadAll(resp.Body)
	if blk, _ := pem.Decode(root); err != nil || blk == nil {
		t.Fatalf("Pebble's root: %v %q", err, root)
	}
	return root
}

// Dial opens TLS to addr as a client that offers the ALPN protocols alpn,
// asks for serverName and trusts Pebble's root only.
func (ca *CA) Dial(ctx context.Context, addr, serverName string, alpn ...string) (*tls.Conn, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{},
		Config: &tls.Config{RootCAs: ca.Root, ServerName: serverName, NextProtos: alpn, MinVersion: tls.VersionTLS12}}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pebble: TLS to %s: %w", addr, err)
	}
	return c.(*tls.Conn), nil
}

// WaitServed waits until addr serves, for serverName, a chain that
// verifies to Pebble's root and whose leaf accept takes (nil: any), and
// returns that connection's state; it fails the test after limit. It polls:
// an edge says nothing when its certificate arrives.
func (ca *CA) WaitServed(t testing.TB, addr, serverName string, alpn []string, accept func(*x509.Certificate) bool, limit time.Duration) tls.ConnectionState {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := ca.Dial(ctx, addr, serverName, alpn...)
		cancel()
		if err == nil {
			st := c.ConnectionState()
			c.Close()
			if accept == nil || accept(st.PeerCertificates[0]) {
				return st
			}
			last = fmt.Errorf("leaf serial %x not accepted", st.PeerCertificates[0].SerialNumber)
		} else {
			last = err
		}
		time.Sleep(100 * time.Millisecond) // polling what the edge serves: it signals nothing else
	}
	t.Fatalf("no accepted certificate from %s within %v: %v", addr, limit, last)
	return tls.ConnectionState{}
}
