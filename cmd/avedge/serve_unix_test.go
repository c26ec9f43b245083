//go:build unix

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/pki"
)

// TestServeReload changes secrets and trusted clients, sends SIGHUP, and
// checks that they apply while the rest waits for a restart.
func TestServeReload(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := t.TempDir()
	if _, _, err := run(t, context.Background(), "pki", "dev", "--out", filepath.Join(dir, "pki")); err != nil {
		t.Fatal(err)
	}
	oldSecret := auth.Secret{ID: "old", Value: []byte("old-secret-0123456789abcdef")}
	newSecret := auth.Secret{ID: "new", Value: []byte("new-secret-0123456789abcdef")}
	udpPort, tcpPort := freeUDPPort(t), freeTCPPort(t)
	path, url := edgeConfig(t, dir, udpPort, tcpPort, []auth.Secret{oldSecret}, pki.DevClientName)
	s := serve(t, path, "credential service listening")
	before, err := request(t, url, dir, "--identity", "alice")
	if err != nil {
		t.Fatal(err)
	}

	// Step 1 of a rotation: add the new secret in front; also trust another
	// client name only, and change a setting that needs a restart.
	edgeConfig(t, dir, udpPort, tcpPort, []auth.Secret{newSecret, oldSecret}, "other.example.com")
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, bytes.Replace(b, []byte("realm: cli.test"), []byte("realm: changed.test"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.wait("reloaded secrets", "ids=\"[new old]\"")
	s.wait("need a restart", "realm")
	if _, err := request(t, url, dir, "--identity", "alice"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("a client no longer trusted: %v", err)
	}

	// Step 2: trust the client again; credentials are now signed with the
	// new secret, and the old ones still allocate.
	edgeConfig(t, dir, udpPort, tcpPort, []auth.Secret{newSecret, oldSecret}, pki.DevClientName)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.wait("reloaded secrets")
	after, err := request(t, url, dir, "--identity", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if after.Password != auth.RESTPassword(newSecret.Value, after.Username) || after.Realm != "cli.test" {
		t.Errorf("after reload: %+v, want signed with the new secret in the running realm", after)
	}
	allocate(t, udpPort, before)

	// A configuration that does not load changes nothing.
	if err := os.WriteFile(path, []byte("realm: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.wait("reload failed", "unchanged")
	allocate(t, udpPort, before)

	// Step 4: remove the old secret from the configuration, delete its
	// file and reload: credentials signed with it fail from then on.
	edgeConfig(t, dir, udpPort, tcpPort, []auth.Secret{newSecret}, pki.DevClientName)
	if err := os.Remove(filepath.Join(dir, "secret-"+oldSecret.ID)); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.wait("reloaded secrets", "ids=[new]")
	if err := tryAllocate(t, udpPort, before); err == nil {
		t.Fatal("a credential of the removed secret still allocates")
	}
	allocate(t, udpPort, after)
}
