package netns

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/netnstest"
)

const (
	// edgeLimit bounds the edge process's whole life.
	edgeLimit = 90 * time.Second
	// readyLimit bounds the wait for the edge's "serving" log line.
	readyLimit = 15 * time.Second
	// adminURL is the admin listener, on the internal interface.
	adminURL = "http://" + edgeInternal + ":9090"
)

// startEdge runs avedge serve --config path in the edge namespace and
// returns once it logs "serving" and /readyz, fetched from the client
// namespace, answers 200.
func startEdge(t *testing.T, n *netnstest.Net, avedge, helper, path string) *netnstest.Proc {
	t.Helper()
	edge := n.StartWith(nsEdge, netnstest.StartOptions{Env: []string{"XDG_STATE_HOME=" + t.TempDir()}, Limit: edgeLimit},
		avedge, "serve", "--config", path)
	edge.WaitStderr("serving", readyLimit)
	out, err := n.Exec(nsClient, helper, "get", "-url", adminURL+"/readyz", "-timeout", "2s")
	if err != nil {
		t.Fatalf("/readyz from the client namespace: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "ready" {
		t.Fatalf("/readyz = %q, want ready", got)
	}
	return edge
}

// counter fetches /metrics from the client namespace and returns the sum of
// the samples of metric whose labels include label (e.g.
// `reason="no_permission"`); a metric without such samples counts 0.
func counter(t *testing.T, n *netnstest.Net, helper, metric, label string) float64 {
	t.Helper()
	out, err := n.Exec(nsClient, helper, "get", "-url", adminURL+"/metrics", "-timeout", "2s")
	if err != nil {
		t.Fatalf("/metrics from the client namespace: %v", err)
	}
	sum := 0.0
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), "{")
		if !ok || name != metric {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok || !strings.Contains(labels, label) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			t.Fatalf("/metrics: %q: %v", sc.Text(), err)
		}
		sum += v
	}
	return sum
}
