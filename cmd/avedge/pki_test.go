package main

import (
	"context"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/pki"
)

// verifyDir checks the PKI in dir: key modes, and that the service and
// client certificates chain to roots for their usage.
func verifyDir(t *testing.T, dir string, roots *x509.CertPool, clientName string) {
	t.Helper()
	f := pki.DevFiles(dir)
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("directory mode: %v", err)
	}
	for _, p := range []string{f.ServerKey, f.ClientKey} {
		if info, err := os.Stat(p); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v", p, err)
		}
	}
	server, err := pki.LoadKeyPair(f.ServerCert, f.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1"}); err != nil {
		t.Errorf("service certificate: %v", err)
	}
	client, err := pki.LoadKeyPair(f.ClientCert, f.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if len(client.Leaf.DNSNames) != 1 || client.Leaf.DNSNames[0] != clientName {
		t.Errorf("client names %q, want %s", client.Leaf.DNSNames, clientName)
	}
}

func TestPKIDev(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	dir := filepath.Join(t.TempDir(), "pki")
	out, _, err := run(t, context.Background(), "pki", "dev", "--out", dir)
	if err != nil {
		t.Fatal(err)
	}
	f := pki.DevFiles(dir)
	devCA := filepath.Join(state, "avedge", "pki", "ca.crt")
	for _, want := range []string{"signed by the development CA " + devCA, "cert_file: " + f.ServerCert,
		"trusted_clients: [" + pki.DevClientName + "]",
		"avedge creds request --service https://127.0.0.1:5062 --cert " + f.ClientCert} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Signed by the development edge's CA, whose key stays in the state
	// directory: the development edge trusts this client.
	roots, err := pki.LoadPool(devCA)
	if err != nil {
		t.Fatal(err)
	}
	verifyDir(t, dir, roots, pki.DevClientName)
	if _, err := os.Stat(f.CAKey); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ca.key written for the development CA: %v", err)
	}
	if a, b := readFile(t, f.CACert), readFile(t, devCA); a != b {
		t.Error("ca.crt is not the development CA")
	}

	// Existing files are kept, unless --force.
	before := readFile(t, f.ClientKey)
	if _, _, err := run(t, context.Background(), "pki", "dev", "--out", dir); !errors.Is(err, pki.ErrExists) {
		t.Errorf("second pki dev: %v, want pki.ErrExists", err)
	}
	if readFile(t, f.ClientKey) != before {
		t.Error("the client key changed without --force")
	}

	// --new-ca: an independent CA, with its key.
	out, _, err = run(t, context.Background(), "pki", "dev", "--out", dir, "--force", "--new-ca",
		"--server-name", "edge.corp.example,127.0.0.1", "--client-name", "app.corp.example")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "signed by a new CA") || !strings.Contains(out, "CA key       "+f.CAKey) {
		t.Errorf("output:\n%s", out)
	}
	own, err := pki.LoadPool(f.CACert)
	if err != nil {
		t.Fatal(err)
	}
	verifyDir(t, dir, own, "app.corp.example")
	if info, err := os.Stat(f.CAKey); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("ca.key: %v", err)
	}
	if readFile(t, f.CACert) == readFile(t, devCA) {
		t.Error("--new-ca reused the development CA")
	}

	if _, _, err := run(t, context.Background(), "pki", "dev"); err == nil || !strings.Contains(err.Error(), `"out" not set`) {
		t.Errorf("pki dev without --out: %v", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPKIDevRefusesStateDir: --out must not name the development edge's
// own PKI directory, directly, through a symbolic link or before it
// exists.
func TestPKIDevRefusesStateDir(t *testing.T) {
	tests := []struct {
		name   string
		create bool // the state PKI exists before the command
		out    func(state string) string
	}{
		{"existing", true, func(s string) string { return filepath.Join(s, "avedge", "pki") }},
		{"not yet created", false, func(s string) string { return filepath.Join(s, "avedge", "pki") }},
		{"through ..", true, func(s string) string { return filepath.Join(s, "avedge", "pki", "..", "pki") }},
		{"through a symbolic link", true, func(s string) string {
			link := filepath.Join(t.TempDir(), "link")
			if err := os.Symlink(filepath.Join(s, "avedge"), link); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(link, "pki")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := t.TempDir()
			t.Setenv("XDG_STATE_HOME", state)
			if tt.create {
				if _, err := pki.EnsureDev(filepath.Join(state, "avedge", "pki"), time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			for _, args := range [][]string{{}, {"--force"}, {"--force", "--new-ca"}} {
				_, _, err := run(t, context.Background(), append([]string{"pki", "dev", "--out", tt.out(state)}, args...)...)
				if err == nil || !strings.Contains(err.Error(), "own PKI directory") {
					t.Errorf("%q: err %v, want a refusal", args, err)
				}
			}
		})
	}
}
