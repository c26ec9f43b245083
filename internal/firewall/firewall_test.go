package firewall

import (
	"context"
	"errors"
	"flag"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// formats are the outputs under test, by golden file extension.
var formats = []struct {
	ext    string
	render func(*config.Config) string
}{
	{".table", Table},
	{".nft", NFTables},
	{".iptables", IPTables},
	{".ip6tables", IP6Tables},
}

// load parses testdata/name.
func load(t *testing.T, name string) *config.Config {
	t.Helper()
	dir := "testdata"
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(name, dir, data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// samples returns the names of the sample configurations.
func samples(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample configurations: %v", err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}

func TestGolden(t *testing.T) {
	for _, name := range samples(t) {
		c := load(t, name)
		for _, f := range formats {
			t.Run(name+f.ext, func(t *testing.T) {
				got := f.render(c)
				path := filepath.Join("testdata", strings.TrimSuffix(name, ".yaml")+f.ext)
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if got != string(want) {
					t.Errorf("differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
				}
			})
		}
	}
}

func TestRules(t *testing.T) {
	v4 := netip.MustParseAddr
	tests := []struct {
		name string
		file string
		want Rule
	}{
		{"internal UDP listener", "edge.yaml", Rule{Inbound, Internal, "", UDP, v4("10.0.0.5"), Ports{3478, 3478}, Ports{}, "STUN/TURN clients over UDP"}},
		{"external TLS on 443", "edge.yaml", Rule{Inbound, External, "", TCP, v4("192.0.2.10"), Ports{443, 443}, Ports{}, "TURN clients over TCP and TLS"}},
		{"UDP relay ports", "edge.yaml", Rule{Inbound, External, "", UDP, v4("192.0.2.10"), Ports{50000, 59999}, Ports{}, "relayed media from peers (UDP relay ports)"}},
		{"IPv6 TCP relay ports", "edge.yaml", Rule{Inbound, External, "", TCP, v4("2001:db8::10"), Ports{50000, 59999}, Ports{}, "relayed TCP connections from peers (RFC 6062)"}},
		{"credential service on the internal address", "edge.yaml", Rule{Inbound, Internal, "", TCP, v4("10.0.0.5"), Ports{5062, 5062}, Ports{}, "credential service (mutual TLS) for trusted servers"}},
		{"admin", "edge.yaml", Rule{Inbound, Internal, "", TCP, v4("10.0.0.5"), Ports{9090, 9090}, Ports{}, "admin endpoints (/metrics, /healthz, /readyz, POST /drain)"}},
		{"outbound media", "edge.yaml", Rule{Outbound, External, "", UDP, v4("192.0.2.10"), Ports{50000, 59999}, Ports{1024, 65535}, "relayed media to peers (UDP relay ports)"}},
		{"wildcard listener without interfaces", "single.yaml", Rule{Inbound, External, "", UDP, v4("::"), Ports{3478, 3478}, Ports{}, "STUN/TURN clients over UDP"}},
		{"admin without interfaces", "single.yaml", Rule{Inbound, Internal, "", TCP, v4("10.1.2.3"), Ports{9090, 9090}, Ports{}, "admin endpoints (/metrics, /healthz, /readyz, POST /drain)"}},
		{"internal listener on its device", "names.yaml", Rule{Inbound, Internal, "eth1", UDP, v4("10.0.0.5"), Ports{3478, 3478}, Ports{}, "STUN/TURN clients over UDP"}},
		{"external listener on its device", "names.yaml", Rule{Inbound, External, "eth0", TCP, v4("192.0.2.10"), Ports{443, 443}, Ports{}, "TURN clients over TCP and TLS"}},
		{"relay ports on the external device", "names.yaml", Rule{Inbound, External, "eth0", UDP, v4("2001:db8::10"), Ports{50000, 59999}, Ports{}, "relayed media from peers (UDP relay ports)"}},
		{"credential service on the internal device", "names.yaml", Rule{Inbound, Internal, "eth1", TCP, v4("10.0.0.5"), Ports{5062, 5062}, Ports{}, "credential service (mutual TLS) for trusted servers"}},
		{"admin on the internal device", "names.yaml", Rule{Inbound, Internal, "eth1", TCP, v4("10.0.0.5"), Ports{9090, 9090}, Ports{}, "admin endpoints (/metrics, /healthz, /readyz, POST /drain)"}},
		{"outbound media by address only", "names.yaml", Rule{Outbound, External, "", UDP, v4("192.0.2.10"), Ports{50000, 59999}, Ports{1024, 65535}, "relayed media to peers (UDP relay ports)"}},
		{"only the external side named", "names_external.yaml", Rule{Inbound, Internal, "", TCP, v4("10.0.0.5"), Ports{5062, 5062}, Ports{}, "credential service (mutual TLS) for trusted servers"}},
		{"only the external side named: relay", "names_external.yaml", Rule{Inbound, External, "ens4", UDP, v4("192.0.2.10"), Ports{50000, 59999}, Ports{}, "relayed media from peers (UDP relay ports)"}},
		{"loopback credential service", "dev.yaml", Rule{Inbound, Loopback, "", TCP, v4("127.0.0.1"), Ports{5062, 5062}, Ports{}, "credential service (mutual TLS) for trusted servers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules := Rules(load(t, tt.file))
			for _, r := range rules {
				if r == tt.want {
					return
				}
			}
			t.Errorf("no rule %+v in %+v", tt.want, rules)
		})
	}
}

func TestRulesCount(t *testing.T) {
	tests := []struct {
		file      string
		tcpRelays int
		total     int
	}{
		// 5 listeners, UDP+TCP relay in and out on 2 addresses, service, admin.
		{"edge.yaml", 4, 5 + 8 + 2},
		// 2 listeners, UDP relay in and out, admin: no stream listener, no TCP relay.
		{"single.yaml", 0, 2 + 2 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rules := Rules(load(t, tt.file))
			tcpRelays := 0
			for _, r := range rules {
				if r.Protocol == TCP && r.LocalPorts.Min != r.LocalPorts.Max {
					tcpRelays++
				}
			}
			if len(rules) != tt.total || tcpRelays != tt.tcpRelays {
				t.Errorf("%d rules, %d TCP relay rules; want %d, %d", len(rules), tcpRelays, tt.total, tt.tcpRelays)
			}
		})
	}
}

func TestPorts(t *testing.T) {
	tests := []struct {
		p          Ports
		dash, colo string
	}{
		{Ports{}, "any", "any"},
		{Ports{3478, 3478}, "3478", "3478"},
		{Ports{50000, 59999}, "50000-59999", "50000:59999"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.dash {
			t.Errorf("%+v.String() = %q, want %q", tt.p, got, tt.dash)
		}
		if got := tt.p.join(":"); got != tt.colo {
			t.Errorf("%+v.join(\":\") = %q, want %q", tt.p, got, tt.colo)
		}
	}
}

// checker returns the path of a ruleset checker, or skips the test when it
// cannot run: the tool is missing or needs root. With CI=true (where
// scripts/install-test-deps installs nft and iptables-restore, and the
// tests run as root) it fails the test instead.
func checker(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err == nil {
		if os.Geteuid() == 0 {
			return path
		}
		err = errors.New("checking needs root")
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: %v (scripts/install-test-deps installs it; run the tests as root)", tool, err)
	}
	t.Skipf("%s: %v: install it (scripts/install-test-deps) and run as root to check the ruleset", tool, err)
	return ""
}

// check runs tool with args and the ruleset in a file, failing with its
// output.
func check(t *testing.T, text string, tool string, args ...string) {
	t.Helper()
	path := checker(t, tool)
	file := filepath.Join(t.TempDir(), "rules")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, append(args, file)...).CombinedOutput()
	if err != nil {
		t.Errorf("%s %s: %v\n%s\nruleset:\n%s", tool, strings.Join(args, " "), err, out, text)
	}
}

func TestNFTablesCheck(t *testing.T) {
	for _, name := range samples(t) {
		t.Run(name, func(t *testing.T) { check(t, NFTables(load(t, name)), "nft", "-c", "-f") })
	}
}

func TestIPTablesCheck(t *testing.T) {
	for _, name := range samples(t) {
		t.Run(name, func(t *testing.T) { check(t, IPTables(load(t, name)), "iptables-restore", "--test") })
		t.Run(name+"/v6", func(t *testing.T) { check(t, IP6Tables(load(t, name)), "ip6tables-restore", "--test") })
	}
}
