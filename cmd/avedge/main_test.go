package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/turntest"
)

// run executes the command line args and returns stdout, stderr and the error.
func run(t *testing.T, ctx context.Context, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCmd(&stdout, &stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return stdout.String(), stderr.String(), err
}

func TestVersion(t *testing.T) {
	out, _, err := run(t, context.Background(), "version")
	if err != nil || !strings.HasPrefix(out, "avedge ") {
		t.Fatalf("version: %q, %v", out, err)
	}
}

func TestHelpForEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"creds", "issue", "--help"}, {"creds", "request", "--help"}, {"pki", "dev", "--help"}, {"version", "--help"}, {"bench", "--help"}, {"probe", "--help"}, {"drain", "--help"}, {"firewall", "--help"}, {"sessions", "--help"}, {"sessions", "list", "--help"}, {"sessions", "revoke", "--help"}, {"config", "--help"}, {"config", "check", "--help"}} {
		out, _, err := run(t, context.Background(), args...)
		if err != nil || !strings.Contains(out, "Usage:") {
			t.Errorf("%v: %v, output %q", args, err, out)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"creds", "issue"}, `required flag(s) "user" not set`},
		{[]string{"serve", "--config", "/nonexistent/avedge.yaml"}, "/nonexistent/avedge.yaml"},
		{[]string{"nosuchcommand"}, "unknown command"},
		{[]string{"creds", "issue", "--user", "alice", "--ttl", "9h"}, "--ttl 9h0m0s"},
	} {
		t.Setenv("XDG_STATE_HOME", t.TempDir())
		wantError(t, tc.args, tc.want)
	}
}

// wantError runs the command line args and checks that it fails with an
// error containing want.
func wantError(t *testing.T, args []string, want string) {
	t.Helper()
	_, _, err := run(t, context.Background(), args...)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%v: error %v, want one containing %q", args, err, want)
	}
}

func TestCredsIssueDevelopment(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	out, _, err := run(t, context.Background(), "creds", "issue", "--user", "alice", "--ttl", "1h")
	if err != nil {
		t.Fatal(err)
	}
	var c credential
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if !strings.HasSuffix(c.Username, ":alice") || c.Password == "" || c.TTL != 3600 || c.Realm != "avedge.local" {
		t.Fatalf("credential %+v", c)
	}
	wantURIs := []string{
		"turn:127.0.0.1:3478?transport=udp", "turn:[::1]:3478?transport=udp",
		"turn:127.0.0.1:3478?transport=tcp", "turn:[::1]:3478?transport=tcp",
		"turns:127.0.0.1:3478?transport=tcp", "turns:[::1]:3478?transport=tcp",
		"turns:127.0.0.1:5349?transport=tcp", "turns:[::1]:5349?transport=tcp",
	}
	if !slices.Equal(c.URIs, wantURIs) {
		t.Fatalf("uris %v, want %v", c.URIs, wantURIs)
	}
	fi, err := os.Stat(filepath.Join(state, "avedge", "dev.secret"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dev.secret: %v, mode %v", err, fi.Mode())
	}
}

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// cliSecret is the REST secret of cliConfig's configurations.
const cliSecret = "cli-test-secret-0123456789"

// cliConfig writes avedge.yaml into dir: realm cli.test, a UDP listener on
// 127.0.0.1:udpPort, relay ports in the range ports (each test file keeps
// its own, below the ephemeral range), secret k1 = cliSecret, peers on
// loopback allowed, then the sections in extra. It returns the path.
func cliConfig(t *testing.T, dir string, udpPort int, ports, extra string) string {
	t.Helper()
	cfg := fmt.Sprintf(`realm: cli.test
listeners:
  - protocol: udp
    address: 127.0.0.1:%d
relay:
  address: 127.0.0.1
  ports: %s
auth:
  secrets:
    - id: k1
      secret: %s
peers:
  allow: [127.0.0.0/8]
`, udpPort, ports, cliSecret) + extra
	path := filepath.Join(dir, "avedge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeAndRelay is the newcomer's path through the command line: serve a
// config, issue a credential for it, and relay through the edge with a TURN
// client built from the messages of RFC 8656. The start log names the data
// path the edge runs.
func TestServeAndRelay(t *testing.T) {
	port := freeUDPPort(t)
	path := cliConfig(t, t.TempDir(), port, "31000-31099", "")
	serve(t, path, "relaying", `data_path="`+datapath.DefaultPath+`"`)

	c := credsIssue(t, path)
	if want := fmt.Sprintf("turn:127.0.0.1:%d?transport=udp", port); len(c.URIs) != 1 || c.URIs[0] != want {
		t.Fatalf("uris %v, want [%s]", c.URIs, want)
	}
	relay, _ := relayHello(t, port, c)
	defer relay.Refresh(0)
}

// helloPeer is what relayHello sends through the relay.
const helloPeer = "hello peer"

// credsIssue signs a credential for bob with the configuration at
// path, as an operator does with "avedge creds issue".
func credsIssue(t *testing.T, path string) credential {
	t.Helper()
	out, _, err := run(t, context.Background(), "creds", "issue", "--user", "bob", "--config", path)
	if err != nil {
		t.Fatal(err)
	}
	var c credential
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// relayHello allocates with c on the edge at 127.0.0.1:port and sends helloPeer through the relay to a new loopback peer,
// which must get it from the relayed address. It returns the client with
// its allocation, for the caller to delete (or to leave to the edge's
// shutdown), and the relayed address.
func relayHello(t *testing.T, port int, c credential) (*turntest.Client, netip.AddrPort) {
	t.Helper()
	tc := turnClient(t, port, c.Username, c.Password, c.Realm)
	if mapped := tc.Binding(); mapped != tc.LocalAddr() {
		t.Fatalf("binding: reflexive address %v, want %v", mapped, tc.LocalAddr())
	}
	relayed, code := tc.Allocate()
	if code != 0 {
		t.Fatalf("allocate: error code %d", code)
	}
	peer, err := net.ListenPacket("udp4", "127.0.0.2:0") // 127.0.0.1 is the edge's own: no hairpin
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if code := tc.SendTo(netip.MustParseAddrPort(peer.LocalAddr().String()), []byte(helloPeer)); code != 0 {
		t.Fatalf("CreatePermission: error code %d", code)
	}
	buf := make([]byte, 1500)
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := peer.ReadFrom(buf)
	if err != nil || string(buf[:n]) != helloPeer || from.String() != relayed.String() {
		t.Fatalf("peer got %q from %v (%v), want it from %v", buf[:n], from, err, relayed)
	}
	return tc, relayed
}
