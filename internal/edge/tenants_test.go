package edge

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/turntest"
)

// TestTenantsEdge: an edge of two tenants, the default one on a UDP
// listener and "b" bound to a TCP listener, with their own realms,
// secrets and quotas: each client sees its realm, hits its own quota,
// and the records name the tenants.
func TestTenantsEdge(t *testing.T) {
	cfg := development(t)
	cfg.Listeners = []config.Listener{
		{Protocol: "udp", Address: netip.MustParseAddrPort("127.0.0.1:0")},
		{Protocol: "tcp", Address: netip.MustParseAddrPort("127.0.0.1:0")},
	}
	cfg.Records.Output = filepath.Join(t.TempDir(), "records.jsonl")
	cfg.Quotas.AllocationsPerUser = 2
	secretB := config.Secret{ID: "b-1", Value: []byte("tenant-b-secret-0123456789")}
	cfg.Tenants = []config.Tenant{{
		Name: "b", Realm: "b.example.com", Secrets: []config.Secret{secretB}, Listeners: []int{1},
		Quotas: config.TenantQuotas{AllocationsPerUser: 1, AllocationsTotal: 10, PortsPerUser: 2},
	}}
	e, err := Build(cfg, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()

	issue := func(s config.Secret) (string, string) {
		t.Helper()
		u, p, err := auth.Issue(auth.Secret{ID: s.ID, Value: s.Value}, "alice", time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return u, p
	}
	dialB := func() *turntest.Client {
		t.Helper()
		conn, err := net.Dial("tcp", e.relay.StreamAddrs()[0].String())
		if err != nil {
			t.Fatal(err)
		}
		u, p := issue(secretB)
		c := turntest.New(t, conn, u, p)
		c.Realm = "b.example.com" // the 401 must carry it
		return c
	}
	dialDefault := func() *turntest.Client {
		t.Helper()
		u, p := issue(cfg.Auth.Secrets[0])
		c := turntest.DialUDP(t, e.relay.Addrs()[0], u, p)
		c.Realm = cfg.Realm
		return c
	}

	b1 := dialB()
	if _, code := b1.Allocate(); code != 0 {
		t.Fatalf("b's alice: code %d", code)
	}
	if _, code := dialB().Allocate(); code != stun.CodeAllocQuotaReached {
		t.Errorf("b's alice, second allocation: code %d, want 486", code)
	}
	d1, d2 := dialDefault(), dialDefault()
	for i, c := range []*turntest.Client{d1, d2} {
		if _, code := c.Allocate(); code != 0 {
			t.Errorf("default alice, allocation %d: code %d", i+1, code)
		}
	}
	if _, code := dialDefault().Allocate(); code != stun.CodeAllocQuotaReached {
		t.Errorf("default alice, third allocation: code %d, want 486", code)
	}
	for _, c := range []*turntest.Client{b1, d1} {
		if code := c.Refresh(0); code != 0 {
			t.Errorf("refresh 0: code %d", code)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	e.Close()

	f, err := os.Open(cfg.Records.Output)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tenants := map[string]int{}
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var rec struct {
			Identity, Tenant string
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Identity != "alice" {
			t.Errorf("record of identity %q, want alice", rec.Identity)
		}
		tenants[rec.Tenant]++
	}
	if tenants["b"] != 1 || tenants[auth.DefaultTenant] != 2 || len(tenants) != 2 {
		t.Errorf("records by tenant: %v, want b 1 and default 2", tenants)
	}
}
