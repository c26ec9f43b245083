package main

import (
	"context"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/avedge/avedge/internal/servertest"
)

// autoConfig writes a configuration whose relay has the auto keys of
// relay (lines under "relay:") and returns its path.
func autoConfig(t *testing.T, relay string) string {
	t.Helper()
	path := cliConfig(t, t.TempDir(), 3478, "31300-31399", "")
	rewrite(t, path, "  ports: 31300-31399\n", "  ports: 31300-31399\n"+relay)
	return path
}

// TestConfigCheckAuto: config check prints "auto", notes that serve
// detects it, and asks no STUN server.
func TestConfigCheckAuto(t *testing.T) {
	stun := servertest.NewSTUN(t, netip.MustParseAddrPort("203.0.113.5:40000"), 0)
	path := autoConfig(t, "  advertised: auto\n  detect_with: [\""+stun.Addr.String()+"\"]\n")
	out, stderr, err := run(t, context.Background(), "config", "check", "--config", path)
	if err != nil {
		t.Fatalf("config check: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "advertised: auto\n") || !strings.Contains(out, "detect_with:\n    - "+stun.Addr.String()+"\n") {
		t.Errorf("output lacks the auto key and its STUN server:\n%s", out)
	}
	if want := "\nnote: relay.advertised: auto: detected when serve starts (config check binds and sends nothing)\n"; !strings.HasSuffix(stderr, want) {
		t.Errorf("stderr %q, want it to end with %q", stderr, want)
	}
	if n := stun.Requests(); n != 0 {
		t.Errorf("config check sent %d STUN requests", n)
	}
}

// TestFirewallAuto: the rules need the relay address, so relay.address
// auto is an error naming the key; relay.advertised auto changes nothing.
func TestFirewallAuto(t *testing.T) {
	path := cliConfig(t, t.TempDir(), 3478, "31300-31399", "")
	rewrite(t, path, "  address: 127.0.0.1\n", "  address: auto\n")
	if _, err := runFirewall(t, "--config", path); err == nil || !strings.Contains(err.Error(), "relay.address: auto") ||
		!strings.Contains(err.Error(), path) {
		t.Errorf("firewall of relay.address auto: %v, want an error naming the file and key", err)
	}
	plain, err := runFirewall(t, "--config", cliConfig(t, t.TempDir(), 3478, "31300-31399", ""))
	if err != nil {
		t.Fatal(err)
	}
	got, err := runFirewall(t, "--config", autoConfig(t, "  advertised: auto\n"))
	if err != nil || got != plain {
		t.Errorf("firewall of relay.advertised auto: %v\n%s\nwant the rules without it:\n%s", err, got, plain)
	}
}

// TestSampleCloudVMAuto: the commented auto variant of
// configs/cloud-vm-nat.yaml, put in place of the written addresses, checks
// and says auto for both.
func TestSampleCloudVMAuto(t *testing.T) {
	path := install(t, topologies[0], t.TempDir(), true, strings.Repeat("5e", 32))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, written := range []string{"  address: 10.0.0.5", "  advertised: 203.0.113.10"} {
		i := strings.Index(text, written)
		if i < 0 {
			t.Fatalf("the sample lacks %q", written)
		}
		text = text[:i] + "  # " + text[i+2:]
	}
	for _, auto := range []string{"address: auto", "advertised: auto", "detect_with: "} {
		if !strings.Contains(text, "  #   "+auto) {
			t.Fatalf("the sample lacks the commented %q", auto)
		}
		text = strings.Replace(text, "  #   "+auto, "  "+auto, 1)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := run(t, context.Background(), "config", "check", "--config", path)
	if err != nil {
		t.Fatalf("config check of the auto variant: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "  address: auto\n") || !strings.Contains(out, "  advertised: auto\n") {
		t.Errorf("effective configuration lacks the auto keys:\n%s", out)
	}
}

// TestCredsIssueAuto: without advertise_host, creds issue leaves out the
// URIs of listeners named by an auto relay address, and keeps the others.
func TestCredsIssueAuto(t *testing.T) {
	path := autoConfig(t, "  advertised: auto\n")
	rewrite(t, path, "listeners:\n", "listeners:\n  - {protocol: udp, address: 0.0.0.0:3479}\n  - {protocol: udp, address: 127.0.0.2:3478}\n")
	c := credsIssue(t, path)
	if want := []string{"turn:127.0.0.2:3478?transport=udp"}; !slices.Equal(c.URIs, want) {
		t.Errorf("uris %q, want %q", c.URIs, want)
	}
	rewrite(t, path, "  address: 127.0.0.1\n", "  address: auto\n")
	// The wildcard listener is named by the relay address, unknown; the
	// others by their own.
	if c := credsIssue(t, path); !slices.Equal(c.URIs, []string{"turn:127.0.0.2:3478?transport=udp", "turn:127.0.0.1:3478?transport=udp"}) {
		t.Errorf("with relay.address auto: uris %q", c.URIs)
	}
}

// rewrite replaces from with to in the file at path ("" leaves it as it
// is).
func rewrite(t *testing.T, path, from, to string) {
	t.Helper()
	if from == "" {
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), from) {
		t.Fatalf("%s lacks %q", path, from)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), from, to, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}
