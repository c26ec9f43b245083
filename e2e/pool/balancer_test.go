package pool

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/netnstest"
)

// balancer is the load balancer: nftables DNAT of the virtual address's
// TURN port to the front listeners of the healthy nodes, round robin per
// new flow (conntrack keeps a flow on its node), and a health check of every node's /readyz that
// rewrites the rules when the healthy set changes, as a hardware load
// balancer or keepalived would.
type balancer struct {
	mu      sync.Mutex
	healthy []int         // the nodes in the rules now
	changed chan struct{} // closed and replaced when healthy changes
}

// startBalancer applies the rules for no node, then checks health every
// healthEvery until the test ends.
func startBalancer(t *testing.T, n *netnstest.Net, helper string) *balancer {
	b := &balancer{healthy: []int{}, changed: make(chan struct{})}
	rules := filepath.Join(t.TempDir(), "lb.nft")
	if err := b.apply(n, rules, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(healthEvery)
		defer tick.Stop()
		for {
			var up []int
			for i, addr := range nodeAddrs {
				out, err := n.ExecContext(ctx, "lb", helper, "get", "-url", fmt.Sprintf("http://%s:%d/readyz", addr, adminPort))
				if err == nil && strings.TrimSpace(string(out)) == "200" {
					up = append(up, i)
				}
			}
			if ctx.Err() != nil {
				return
			}
			b.mu.Lock()
			same := slices.Equal(up, b.healthy)
			b.mu.Unlock()
			if !same {
				if err := b.apply(n, rules, up); err != nil {
					t.Errorf("load balancer: %v", err)
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return b
}

// apply replaces the load balancer's rules with a DNAT to the nodes up,
// in one nft transaction.
func (b *balancer) apply(n *netnstest.Net, path string, up []int) error {
	var rule string
	if len(up) > 0 {
		var targets []string
		for k, i := range up {
			targets = append(targets, fmt.Sprintf("%d : %s . %d", k, nodeAddrs[i], frontPort))
		}
		rule = fmt.Sprintf("\t\tip daddr %s udp dport %d dnat ip addr . port to numgen inc mod %d map { %s }\n",
			vip, turnPort, len(up), strings.Join(targets, ", "))
	}
	ruleset := "table ip avedge_lb\ndelete table ip avedge_lb\ntable ip avedge_lb {\n" +
		"\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n" + rule + "\t}\n}\n"
	if err := os.WriteFile(path, []byte(ruleset), 0o600); err != nil {
		return err
	}
	if out, err := n.Exec("lb", "nft", "-f", path); err != nil {
		return fmt.Errorf("nft -f: %w: %s\n%s", err, out, ruleset)
	}
	b.mu.Lock()
	b.healthy = slices.Clone(up)
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
	return nil
}

// waitHealthy waits until the rules send new flows to exactly the nodes
// want.
func (b *balancer) waitHealthy(t *testing.T, want []int) {
	t.Helper()
	limit := time.After(eventLimit)
	for {
		b.mu.Lock()
		got, changed := slices.Clone(b.healthy), b.changed
		b.mu.Unlock()
		if slices.Equal(got, want) {
			return
		}
		select {
		case <-changed:
		case <-limit:
			t.Fatalf("load balancer: healthy nodes %v, want %v within %v", got, want, eventLimit)
		}
	}
}
