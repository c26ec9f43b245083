package main

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/pki"
	"github.com/avedge/avedge/internal/server"
)

func TestRestartNeeded(t *testing.T) {
	running, err := config.Development(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mod  func(c *config.Config)
		want []string
	}{
		{"nothing", func(*config.Config) {}, nil},
		{"secrets and service files are reloaded", func(c *config.Config) {
			c.Auth.Secrets = append([]config.Secret{{ID: "n", Value: []byte("0123456789abcdef")}}, c.Auth.Secrets...)
			cs := *c.CredentialService
			cs.CertFile, cs.TrustedClients = "/elsewhere.crt", []string{"x.example"}
			c.CredentialService = &cs
		}, nil},
		{"relay", func(c *config.Config) { c.Relay.PortMax = 50010 }, []string{"relay"}},
		{"realm and nonce key", func(c *config.Config) {
			c.Realm = "other"
			c.Auth.NonceKey = []byte("another-nonce-key-0123")
		}, []string{"realm", "auth.nonce_key"}},
		{"static users", func(c *config.Config) {
			c.Auth.StaticUsers = []config.StaticUser{{Username: "u", Password: "p"}}
		}, []string{"auth.static_users"}},
		{"service settings", func(c *config.Config) {
			cs := *c.CredentialService
			cs.Listen = netip.MustParseAddrPort("127.0.0.1:6000")
			cs.MaxTTL = time.Hour
			c.CredentialService = &cs
		}, []string{"credential_service.listen", "credential_service.max_ttl"}},
		{"service turned off", func(c *config.Config) { c.CredentialService = nil }, []string{"credential_service"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := *running
			next.Auth.Secrets = slices.Clone(running.Auth.Secrets)
			tt.mod(&next)
			if got := restartNeeded(running, &next); !slices.Equal(got, tt.want) {
				t.Errorf("restartNeeded = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReloadAllOrNothing: a reload of which one part does not load or
// check changes nothing, the valid parts included.
func TestReloadAllOrNothing(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := t.TempDir()
	if _, _, err := run(t, context.Background(), "pki", "dev", "--out", dir); err != nil {
		t.Fatal(err)
	}
	f := pki.DevFiles(dir)
	store, err := server.LoadCertStore(f.ServerCert, f.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := store.GetCertificate(nil)
	old := auth.Secret{ID: "old", Value: []byte("old-secret-0123456789")}
	keyring, err := auth.NewKeyring([]auth.Secret{old})
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort("127.0.0.1:5349")
	r := &reloader{keyring: keyring, certs: map[netip.AddrPort]*server.CertStore{addr: store},
		log: slog.New(slog.DiscardHandler)}
	newSecret := config.Secret{ID: "new", Value: []byte("new-secret-0123456789")}
	tests := []struct {
		name string
		next config.Config
	}{
		{"listener certificate gone, new secret valid", config.Config{
			Listeners: []config.Listener{{Address: addr, TLS: &config.ListenerTLS{CertFile: filepath.Join(dir, "gone.crt"), KeyFile: f.ServerKey}}},
			Auth:      config.Auth{Secrets: []config.Secret{newSecret, {ID: old.ID, Value: old.Value}}},
		}},
		{"listener certificate valid, secrets with one ID twice", config.Config{
			Listeners: []config.Listener{{Address: addr, TLS: &config.ListenerTLS{CertFile: f.ClientCert, KeyFile: f.ClientKey}}},
			Auth:      config.Auth{Secrets: []config.Secret{newSecret, {ID: "new", Value: old.Value}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := r.prepare(&tt.next, time.Now())
			if err == nil {
				t.Fatalf("prepare succeeded: %+v", p)
			}
			if got := keyring.Newest().ID; got != old.ID {
				t.Errorf("newest secret %q, want %q", got, old.ID)
			}
			if cur, _ := store.GetCertificate(nil); cur.Leaf != before.Leaf {
				t.Error("listener certificate replaced")
			}
		})
	}
	// A valid reload applies both.
	next := config.Config{
		Listeners: []config.Listener{{Address: addr, TLS: &config.ListenerTLS{CertFile: f.ClientCert, KeyFile: f.ClientKey}}},
		Auth:      config.Auth{Secrets: []config.Secret{newSecret}},
	}
	p, err := r.prepare(&next, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.apply(p, &next); err != nil {
		t.Fatal(err)
	}
	if cur, _ := store.GetCertificate(nil); keyring.Newest().ID != "new" || cur.Leaf == before.Leaf {
		t.Error("a valid reload was not applied")
	}
}

// TestRestartNeededDerivedNonceKey: without auth.nonce_key, the nonce key
// is derived from the first secret, so replacing the first secret (an
// emergency revocation) needs a restart for the nonce key, and adding a
// secret behind it does not.
func TestRestartNeededDerivedNonceKey(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := t.TempDir()
	if _, _, err := run(t, context.Background(), "pki", "dev", "--out", filepath.Join(dir, "pki")); err != nil {
		t.Fatal(err)
	}
	a := auth.Secret{ID: "a", Value: []byte("secret-a-0123456789abcdef")}
	b := auth.Secret{ID: "b", Value: []byte("secret-b-0123456789abcdef")}
	load := func(secrets ...auth.Secret) *config.Config {
		t.Helper()
		path, _ := edgeConfig(t, dir, 3478, 5062, secrets, pki.DevClientName)
		c, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	running := load(a)
	tests := []struct {
		name    string
		secrets []auth.Secret
		want    []string
	}{
		{"secret added behind the first", []auth.Secret{a, b}, nil},
		{"new first secret", []auth.Secret{b, a}, []string{"auth.nonce_key"}},
		{"first secret replaced", []auth.Secret{b}, []string{"auth.nonce_key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := restartNeeded(running, load(tt.secrets...)); !slices.Equal(got, tt.want) {
				t.Errorf("restartNeeded = %q, want %q", got, tt.want)
			}
		})
	}
}
