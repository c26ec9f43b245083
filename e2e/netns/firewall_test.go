package netns

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/avedge/avedge/internal/netnstest"
)

// testFirewall shows why avedge firewall binds rules to interface names:
// with the internal address routed through the edge's external address,
// the external client reaches the credential service and the admin port
// at the internal address; once the nftables output of avedge firewall
// (with the interface names of edge.yaml) is loaded in the edge namespace
// it does not, while the internal client still does and relaying works
// from both sides.
func testFirewall(t *testing.T, n *netnstest.Net, avedge, path, helper string, intranet, internet credential) {
	nft, err := exec.LookPath("nft")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("nft: %v (scripts/install-test-deps installs it)", err)
		}
		t.Skipf("nft: %v: install nftables to load the ruleset", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), netnstest.ExecTimeout)
	defer cancel()
	rules, err := exec.CommandContext(ctx, avedge, "firewall", "--config", path, "--format", "nftables").Output()
	if err != nil {
		t.Fatalf("avedge firewall: %v", err)
	}
	for _, want := range []string{
		`iifname "` + edgeInternalDev + `" ip daddr ` + edgeInternal + ` tcp dport 5062 accept`,
		`iifname "` + edgeInternalDev + `" ip daddr ` + edgeInternal + ` tcp dport 9090 accept`,
		`iifname "` + edgeExternalDev + `" ip daddr ` + edgeExternal + ` udp dport 50000-50099 accept`,
	} {
		if !strings.Contains(string(rules), want) {
			t.Fatalf("avedge firewall --format nftables lacks %q:\n%s", want, rules)
		}
	}
	file := filepath.Join(t.TempDir(), "avedge.nft")
	if err := os.WriteFile(file, rules, 0o600); err != nil {
		t.Fatal(err)
	}

	// A host on the external segment that routes the internal address
	// through the edge.
	n.MustExec(nsPeer, "ip", "route", "add", edgeInternal+"/32", "via", edgeExternal)
	internal := []string{edgeInternal + ":5062", edgeInternal + ":9090"}
	t.Run("without the rules the external client connects", func(t *testing.T) {
		for _, to := range internal {
			wantDial(t, n.For(t), nsPeer, helper, to, true)
		}
	})
	if t.Failed() {
		return
	}
	n.MustExec(nsEdge, nft, "-f", file)
	t.Run("with the rules it does not", func(t *testing.T) {
		for _, to := range internal {
			wantDial(t, n.For(t), nsPeer, helper, to, false)
		}
	})
	t.Run("with the rules the internal client connects", func(t *testing.T) {
		for _, to := range internal {
			wantDial(t, n.For(t), nsClient, helper, to, true)
		}
	})
	t.Run("with the rules relaying works from both sides", func(t *testing.T) {
		testMeet(t, n.For(t), helper, intranet, internet)
	})
	t.Run("with the rules relayed media crosses only with a permission", func(t *testing.T) {
		testRelay(t, n.For(t), helper, intranet)
	})
}
