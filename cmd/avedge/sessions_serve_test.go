package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/sessions"
	"github.com/avedge/avedge/internal/turntest"
)

// sessionsEdge writes the configuration of an edge on udpPort with its
// admin endpoints on adminPort, their token in dir/admin.token, and the
// revocations file revocations, checked every second, and returns its
// path.
func sessionsEdge(t *testing.T, dir string, udpPort, adminPort, relayPorts int, revocations string) string {
	t.Helper()
	cfg := fmt.Sprintf(`realm: cli.test
listeners:
  - protocol: udp
    address: 127.0.0.1:%d
relay:
  address: 127.0.0.1
  ports: %d-%d
auth:
  secrets:
    - id: k1
      secret: %q
  revocations_file: %s
  revocations_poll: 1s
peers:
  allow: [127.0.0.0/8]
`, udpPort, relayPorts, relayPorts+49, cliSecret, revocations) + adminSection(t, dir, adminPort)
	path := filepath.Join(dir, fmt.Sprintf("avedge-%d.yaml", udpPort))
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sessionsOf runs "sessions list --json" against the edge of the
// configuration cfg and returns the sessions of identity.
func sessionsOf(t *testing.T, cfg, identity string) []sessions.Session {
	t.Helper()
	out, _, err := run(t, context.Background(), "sessions", "list", "--json", "--identity", identity, "--config", cfg)
	if err != nil {
		t.Fatalf("sessions list: %v", err)
	}
	var list []sessions.Session
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("sessions list --json: %v\n%s", err, out)
	}
	return list
}

// TestSessionsAgainstServe drives two edges that share a revocations file
// with the sessions commands: list shows a live allocation; end ends it;
// revoke on one edge ends the identity's allocation there at once and on
// the other within its poll, and both refuse its credentials; lift
// restores them on both.
func TestSessionsAgainstServe(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := t.TempDir()
	revocations := filepath.Join(dir, "shared", "revocations.json")
	if err := os.Mkdir(filepath.Dir(revocations), 0o700); err != nil {
		t.Fatal(err)
	}
	udpA, udpB := freeUDPPort(t), freeUDPPort(t)
	adminA := "http://127.0.0.1:" + fmt.Sprint(freeTCPPort(t))
	adminB := "http://127.0.0.1:" + fmt.Sprint(freeTCPPort(t))
	port := func(u string) int {
		var p int
		fmt.Sscanf(u[strings.LastIndex(u, ":")+1:], "%d", &p)
		return p
	}
	cfgA, cfgB := sessionsEdge(t, dir, udpA, port(adminA), 31200, revocations), sessionsEdge(t, dir, udpB, port(adminB), 31250, revocations)
	sA, sB := serve(t, cfgA, "serving"), serve(t, cfgB, "serving")
	token := filepath.Join(dir, "admin.token")
	secret := auth.Secret{ID: "k1", Value: []byte(cliSecret)}
	cred := func(identity string) (string, string) {
		u, p, err := auth.Issue(secret, identity, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return u, p
	}
	alloc := func(udpPort int, identity string) *turntest.Client {
		u, p := cred(identity)
		c := turnClient(t, udpPort, u, p, "cli.test")
		if _, code := c.Allocate(); code != 0 {
			t.Fatalf("allocate for %s on %d: error %d", identity, udpPort, code)
		}
		return c
	}

	// list and end.
	bob := alloc(udpA, "bob")
	list := sessionsOf(t, cfgA, "bob")
	if len(list) != 1 || list[0].Client != bob.LocalAddr() {
		t.Fatalf("bob's sessions %+v, want the one from %v", list, bob.LocalAddr())
	}
	table, _, err := run(t, context.Background(), "sessions", "list", "--admin", adminA, "--token-file", token)
	if err != nil || !strings.Contains(table, list[0].ID) || !strings.Contains(table, "bob") {
		t.Fatalf("sessions list: %v\n%s", err, table)
	}
	if _, _, err := run(t, context.Background(), "sessions", "end", list[0].ID, "--admin", adminA, "--token-file", token); err != nil {
		t.Fatal(err)
	}
	if code := bob.Refresh(10 * time.Minute); code != stun.CodeAllocMismatch {
		t.Fatalf("bob's refresh after the end: %d, want 437", code)
	}
	if _, _, err := run(t, context.Background(), "sessions", "end", list[0].ID, "--admin", adminA, "--token-file", token); err == nil ||
		!strings.Contains(err.Error(), "no live session") {
		t.Fatalf("ending it again: %v, want no live session", err)
	}

	// revoke on A: A at once, B within its poll.
	onA, onB := alloc(udpA, "mallory"), alloc(udpB, "mallory")
	alice := alloc(udpB, "alice")
	revoked := time.Now()
	out, _, err := run(t, context.Background(), "sessions", "revoke", "mallory", "--admin", adminA, "--token-file", token)
	if err != nil || !strings.Contains(out, "mallory") {
		t.Fatalf("sessions revoke: %v\n%s", err, out)
	}
	if list := sessionsOf(t, cfgA, "mallory"); len(list) != 0 {
		t.Fatalf("mallory's sessions on A after the revocation: %+v", list)
	}
	if code := onA.Refresh(10 * time.Minute); code != stun.CodeUnauthorized {
		t.Fatalf("mallory's refresh on A after the revocation: %d, want 401", code)
	}
	sB.wait("identity revoked in the revocations file", "mallory", "sessions_ended=1")
	if list := sessionsOf(t, cfgB, "mallory"); len(list) != 0 {
		t.Fatalf("mallory's sessions on B after its reload: %+v", list)
	}
	t.Logf("revocation reached the other edge in %v", time.Since(revoked).Round(time.Millisecond))
	if code := onB.Refresh(10 * time.Minute); code != stun.CodeUnauthorized {
		t.Fatalf("mallory's refresh on B after the revocation: %d, want 401", code)
	}
	for _, p := range []int{udpA, udpB} {
		u, pw := cred("mallory")
		if _, code := turnClient(t, p, u, pw, "cli.test").Allocate(); code != stun.CodeUnauthorized {
			t.Errorf("mallory's new allocation on %d: %d, want 401", p, code)
		}
	}
	if code := alice.Refresh(10 * time.Minute); code != 0 {
		t.Errorf("alice's refresh on B: %d, want success", code)
	}
	out, _, err = run(t, context.Background(), "sessions", "revocations", "--admin", adminB, "--token-file", token)
	if err != nil || !strings.Contains(out, "mallory") {
		t.Fatalf("revocations on B: %v\n%s", err, out)
	}

	// lift on B: both accept mallory again.
	if _, _, err := run(t, context.Background(), "sessions", "lift", "mallory", "--admin", adminB, "--token-file", token); err != nil {
		t.Fatal(err)
	}
	alloc(udpB, "mallory")
	sA.wait("revocation file reloaded", "in_force=0")
	alloc(udpA, "mallory")
}
