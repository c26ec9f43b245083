package acme

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
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// pebbleModule is the module of Pebble and pebble-challtestsrv.
const pebbleModule = "github.com/letsencrypt/pebble/v2"

// builtPebble is where buildPebble put the binaries, once per process.
var builtPebble struct {
	once sync.Once
	dir  string // binaries
	mod  string // the module's source, for its test certificates
	err  error
}

// buildPebble builds pebble and pebble-challtestsrv (tool dependencies of
// the e2e module) and returns their directory and the module's.
func buildPebble(t *testing.T) (bin, mod string) {
	t.Helper()
	b := &builtPebble
	b.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", pebbleModule).Output()
		if err != nil {
			b.err = fmt.Errorf("go list -m %s: %w", pebbleModule, err)
			return
		}
		b.mod = strings.TrimSpace(string(out))
		b.dir, err = os.MkdirTemp("", "pebble-bin-")
		if err != nil {
			b.err = err
			return
		}
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.dir+"/", pebbleModule+"/cmd/pebble", pebbleModule+"/cmd/pebble-challtestsrv")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build pebble: %w\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.dir, b.mod
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// pebble is a running Pebble CA.
type pebble struct {
	Directory string         // https URL of the ACME directory
	CARoots   string         // PEM file of the CA of Pebble's own HTTPS (minica)
	Root      *x509.CertPool // Pebble's issuing root, from its management API
	RootPEM   []byte
}

// startPebble runs pebble-challtestsrv (DNS only, every name 127.0.0.1)
// and Pebble, which validates TLS-ALPN-01 on tlsPort and HTTP-01 on
// httpPort of 127.0.0.1 and issues certificates valid for validity; both
// stop when the test ends.
func startPebble(t *testing.T, tlsPort, httpPort int, validity time.Duration) *pebble {
	t.Helper()
	bin, mod := buildPebble(t)
	dir := t.TempDir()
	dns := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	chall := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	run(t, filepath.Join(bin, "pebble-challtestsrv"), nil, "-dnsserver", dns, "-management", chall,
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "", "-defaultIPv6", "")
	waitTCP(t, chall)

	listen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	mgmt := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var cfg struct {
		Pebble map[string]any `json:"pebble"`
	}
	cfg.Pebble = map[string]any{
		"listenAddress": listen, "managementListenAddress": mgmt,
		"certificate": filepath.Join(mod, "test/certs/localhost/cert.pem"), "privateKey": filepath.Join(mod, "test/certs/localhost/key.pem"),
		"httpPort": httpPort, "tlsPort": tlsPort, "ocspResponderURL": "", "keyAlgorithm": "ecdsa",
		"retryAfter": map[string]int{"authz": 1, "order": 1},
		"profiles":   map[string]any{"default": map[string]any{"description": "short", "validityPeriod": int(validity / time.Second)}},
	}
	b, _ := json.Marshal(cfg)
	conf := filepath.Join(dir, "pebble.json")
	if err := os.WriteFile(conf, b, 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, filepath.Join(bin, "pebble"), []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0"},
		"-config", conf, "-dnsserver", dns)
	waitTCP(t, listen)
	waitTCP(t, mgmt)

	p := &pebble{Directory: "https://" + listen + "/dir", CARoots: filepath.Join(mod, "test/certs/pebble.minica.pem")}
	minica, err := os.ReadFile(p.CARoots)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(minica)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := hc.Get("https://" + mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p.RootPEM, err = io.ReadAll(resp.Body)
	if blk, _ := pem.Decode(p.RootPEM); err != nil || blk == nil {
		t.Fatalf("Pebble's root: %v %q", err, p.RootPEM)
	}
	p.Root = x509.NewCertPool()
	p.Root.AppendCertsFromPEM(p.RootPEM)
	return p
}

// run starts a command whose output goes to the test log (on failure),
// killed when the test ends.
func run(t *testing.T, path string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	w := &testWriter{t: t, name: filepath.Base(path)}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		w.stop()
	})
}

// waitTCP waits until addr accepts TCP connections, for 20 s at most.
func waitTCP(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not accept connections: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a port: no other signal
	}
}

// testWriter logs a process's output lines to the test.
type testWriter struct {
	t    *testing.T
	name string
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Logf("%s: %s", w.name, strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}

// stop ends the logging, before the test does.
func (w *testWriter) stop() { w.mu.Lock(); w.done = true; w.mu.Unlock() }
