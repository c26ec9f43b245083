package edge

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/pki"
	"github.com/avedge/avedge/internal/server"
)

// TestReloadAllOrNothing: a reload of which one part does not load or
// check changes nothing, the valid parts included.
func TestReloadAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	f, err := pki.EnsureDev(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
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
	running := &config.Config{
		Listeners: []config.Listener{{Address: addr, TLS: &config.ListenerTLS{CertFile: f.ServerCert, KeyFile: f.ServerKey}}},
		Auth:      config.Auth{Secrets: []config.Secret{{ID: old.ID, Value: old.Value}}},
	}
	r := &reloader{started: running, applied: running, keyring: keyring, certs: map[netip.AddrPort]*server.CertStore{addr: store},
		certFiles: listenerCertFiles(running), log: slog.New(slog.DiscardHandler), clock: clock.Real{}}
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
			if restart, err := r.reload(&tt.next); err == nil {
				t.Fatalf("reload succeeded, restart %q", restart)
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
	restart, err := r.reload(&next)
	if err != nil {
		t.Fatal(err)
	}
	if cur, _ := store.GetCertificate(nil); keyring.Newest().ID != "new" || cur.Leaf == before.Leaf {
		t.Error("a valid reload was not applied")
	}
	if restart != nil {
		t.Errorf("restart = %q, want none", restart)
	}
}

// TestApplyLogsRestartKeys: a change of interfaces.external.advertised
// (the address put in XOR-RELAYED-ADDRESS) or of ms_turn.enabled, which a
// hand-kept list once missed, is logged as needing a restart, one line per
// key; so are secrets the edge cannot take, with the reason, and never a
// secret's value.
func TestApplyLogsRestartKeys(t *testing.T) {
	running := development(t)
	running.Interfaces = &config.Interfaces{
		Internal: config.Interface{Address: netip.MustParseAddr("127.0.0.1")},
		External: config.Interface{Address: netip.MustParseAddr("127.0.0.1"), Advertised: netip.MustParseAddr("203.0.113.10")},
	}
	running.Auth.Secrets = nil // static users only: no keyring
	var log logged
	r := &reloader{started: running, applied: running, log: slog.New(&log), clock: clock.Real{}}
	next := deepCopy(t, running)
	ifs := *running.Interfaces
	ifs.External.Advertised = netip.MustParseAddr("203.0.113.11")
	next.Interfaces = &ifs
	next.MSTurn.Enabled = false
	secret := "a-new-secret-never-logged-0123"
	next.Auth.Secrets = []config.Secret{{ID: "n", Value: []byte(secret)}}
	restart, err := r.reload(next)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"interfaces.external.advertised", "ms_turn.enabled", "auth.secrets"}
	if !slices.Equal(restart, want) {
		t.Fatalf("restart = %q, want %q", restart, want)
	}
	for _, key := range want {
		if lines := log.with("WARN", "need a restart", "key="+key); len(lines) != 1 {
			t.Errorf("key %s: logged %q, want one line", key, lines)
		}
	}
	if lines := log.with("key=auth.secrets", "reason=", "without secrets"); len(lines) != 1 {
		t.Errorf("auth.secrets logged without its reason: %q", log.with("key=auth.secrets"))
	}
	if strings.Contains(log.all(), secret) {
		t.Error("a secret's value was logged")
	}
	// Reverted, the settings of the running edge need nothing.
	if restart, err := r.reload(deepCopy(t, running)); err != nil || restart != nil {
		t.Errorf("reload of the running configuration: restart %q, %v", restart, err)
	}
}

// loopbackDevelopment returns the development configuration on free
// loopback ports: one UDP and one TLS listener, the credential service and
// the admin endpoints.
func loopbackDevelopment(t *testing.T) *config.Config {
	t.Helper()
	cfg := development(t)
	any4 := netip.MustParseAddrPort("127.0.0.1:0")
	cfg.Listeners = []config.Listener{{Protocol: "udp", Address: any4}, cfg.Listeners[4]}
	cfg.Listeners[1].Address = any4
	cfg.Relay.AddressV6 = netip.Addr{}
	cfg.CredentialService.Listen = any4
	cfg.Admin.Listen = any4
	return cfg
}

// TestBuildApplyRun: an edge built from a configuration takes every
// reloadable key on Apply without asking for a restart, and applies them
// (also with a UDP listener on the address of the TLS one, as the
// development edge has); drained before it serves, Run returns at once.
func TestBuildApplyRun(t *testing.T) {
	cfg := loopbackDevelopment(t)
	var log logged
	e, err := Build(cfg, Deps{Logger: slog.New(&log)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if lines := log.with("credential service listening", "127.0.0.1:"); len(lines) != 1 {
		t.Errorf("credential service: logged %q", lines)
	}
	certs := e.live.certs[cfg.Listeners[1].Address]
	before, _ := certs.GetCertificate(nil)
	client := pki.DevFiles(filepath.Dir(cfg.CredentialService.CertFile))

	next := deepCopy(t, cfg)
	next.Listeners[1].TLS = &config.ListenerTLS{CertFile: client.ClientCert, KeyFile: client.ClientKey}
	next.Auth.Secrets = append([]config.Secret{{ID: "n", Value: []byte("0123456789abcdef0123")}}, cfg.Auth.Secrets...)
	next.Peers.Deny = []netip.Prefix{netip.MustParsePrefix("127.0.0.9/32")}
	next.Quotas.AllocationsPerUser, next.Quotas.AllocationsTotal, next.Quotas.PortsPerUser = 1, 2, 3
	next.Limits.UnauthenticatedBurst = 1
	next.CredentialService.CertFile, next.CredentialService.KeyFile = client.ClientCert, client.ClientKey
	next.CredentialService.TrustedClients = []string{"x.example"}
	restart, err := e.Apply(next)
	if err != nil || restart != nil {
		t.Fatalf("Apply: restart %q, %v", restart, err)
	}
	if cur, _ := certs.GetCertificate(nil); cur.Leaf == before.Leaf {
		t.Error("the TLS listener's certificate was not reloaded")
	}
	if id := e.live.keyring.Newest().ID; id != "n" {
		t.Errorf("newest secret %q, want n", id)
	}
	for _, msg := range []string{
		"reloaded the credential service's certificate, client CAs and trusted clients",
		"reloaded secrets",
		"reloaded the peer policy",
		"reloaded the allocation quotas",
		"reloaded the limits of unauthenticated requests",
	} {
		if len(log.with(msg)) != 1 {
			t.Errorf("no log line %q", msg)
		}
	}
	if len(log.with("need a restart")) != 0 {
		t.Errorf("logged restarts: %q", log.with("need a restart"))
	}

	e.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Run(ctx); err != nil || ctx.Err() != nil {
		t.Fatalf("Run of a drained edge: %v (context: %v)", err, ctx.Err())
	}
}

// TestBuildFails: an edge whose admin endpoints cannot listen builds
// nothing and leaves nothing bound: the credential service's address is
// free again.
func TestBuildFails(t *testing.T) {
	taken, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	free, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svcAddr := netip.MustParseAddrPort(free.Addr().String())
	free.Close()
	cfg := loopbackDevelopment(t)
	cfg.CredentialService.Listen = svcAddr
	cfg.Admin = &config.Admin{Listen: netip.MustParseAddrPort(taken.Addr().String())}
	if e, err := Build(cfg, Deps{}); err == nil {
		e.Close()
		t.Fatal("Build succeeded with the admin address taken")
	}
	again, err := net.Listen("tcp4", svcAddr.String())
	if err != nil {
		t.Fatalf("the credential service's address is still bound: %v", err)
	}
	again.Close()
}
