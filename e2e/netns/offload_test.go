package netns

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/e2e/internal/shipped"
	"github.com/avedge/avedge/internal/netnstest"
)

// offloadPackets is how many datagrams the offload test relays each way.
const offloadPackets = 200

// TestOffloadedEdge runs an edge with datapath.offload: tc
// (testdata/offload.yaml) between the client and the peer namespaces,
// whose veths send complete checksums as real NICs' wires do. A client
// binds a channel to an echo on the peer and exchanges offloadPackets
// datagrams each way over it: all arrive, the edge's sockets receive
// hardly any datagram (the requests, not the media: the packets went
// through the kernel path), the relayed-packet metrics count them all
// (read back from the kernel), and the session record written when the
// edge stops holds exactly what was sent.
func TestOffloadedEdge(t *testing.T) {
	n := newTopology(t)
	avedge := shipped.Build(t, "cmd/avedge")
	helper := netnstest.Build(t, "netns/testdata/helper")
	// netnstest names each veth end after the namespace at the other end.
	for _, ns := range []string{nsClient, nsPeer} {
		if out, err := n.Exec(ns, helper, "nocsum", "-dev", nsEdge); err != nil {
			t.Fatalf("%s: nocsum: %v (%s)", ns, err, out)
		}
	}
	path, dir := writeConfig(t, avedge, "offload.yaml")
	out, err := n.Exec(nsEdge, avedge, "creds", "issue", "--config", path, "--user", "alice")
	if err != nil {
		t.Fatalf("creds issue: %v\n%s", err, out)
	}
	var cred credential
	if err := json.Unmarshal(out, &cred); err != nil {
		t.Fatalf("creds issue printed %q: %v", out, err)
	}
	edge := n.StartWith(nsEdge, netnstest.StartOptions{Env: []string{"XDG_STATE_HOME=" + t.TempDir()}, Limit: edgeLimit},
		avedge, "serve", "--config", path)
	edge.WaitStderr("serving", readyLimit)
	if !strings.Contains(edge.Stderr(), "offload: attached") {
		t.Fatalf("the edge did not log the offload's attachment:\n%s", edge.Stderr())
	}

	peerEcho := fmt.Sprintf("%s:%d", peerAddr, echoPort)
	echo := n.StartWith(nsPeer, netnstest.StartOptions{Limit: 60 * time.Second}, helper,
		"echo", "-listen", peerEcho, "-count", fmt.Sprint(offloadPackets), "-timeout", "50s")
	if got := echo.Line(lineLimit); got != `{"listening":true}` {
		t.Fatalf("peer echo: %q, want listening", got)
	}
	c := startTURN(t, n, helper, "client", "udp", cred)
	c.wantCode("bind "+peerEcho, 0)
	rxBefore := counter(t, n, helper, "avedge_socket_packets_total", `direction="rx"`)
	// 16 bytes: the helper pads ChannelData to 4 bytes, and padded
	// ChannelData is left to user space.
	for i := range offloadPackets {
		data := fmt.Sprintf("offloaded-%06d", i)
		c.send("chan", peerEcho, data)
		c.wantReceived(peerEcho, data)
	}
	rx := counter(t, n, helper, "avedge_socket_packets_total", `direction="rx"`) - rxBefore
	if rx > offloadPackets/10 {
		t.Errorf("the edge's sockets received %v datagrams while %d were relayed each way: not offloaded", rx, offloadPackets)
	}
	t.Logf("edge sockets received %v datagrams for %d relayed each way", rx, offloadPackets)
	waitCounter(t, n, helper, "avedge_relayed_packets_total", `direction="to_peer"`, offloadPackets)
	waitCounter(t, n, helper, "avedge_relayed_packets_total", `direction="to_client"`, offloadPackets)
	if got, want := echo.Line(lineLimit), fmt.Sprintf(`{"echoed":%d}`, offloadPackets); got != want {
		t.Errorf("peer echo: %s, want %s", got, want)
	}

	// Stopping the edge ends the allocation: its record holds what the
	// kernel relayed.
	if err := edge.Stop(); err != nil {
		t.Logf("edge stopped: %v", err)
	}
	rec := onlyRecord(t, filepath.Join(dir, "sessions.jsonl"))
	size := uint64(len("offloaded-000000"))
	if rec.ToPeerPackets != offloadPackets || rec.ToClientPackets != offloadPackets ||
		rec.ToPeerBytes != offloadPackets*size || rec.ToClientBytes != offloadPackets*size {
		t.Errorf("record %+v, want %d packets of %d bytes each way", rec, offloadPackets, size)
	}
}

// sessionRecord is what offload_test.go reads of a session record.
type sessionRecord struct {
	Kind            string `json:"kind"`
	Reason          string `json:"end_reason"`
	ToPeerPackets   uint64 `json:"to_peer_packets"`
	ToPeerBytes     uint64 `json:"to_peer_bytes"`
	ToClientPackets uint64 `json:"to_client_packets"`
	ToClientBytes   uint64 `json:"to_client_bytes"`
}

// onlyRecord returns the one end record of the records file at path.
func onlyRecord(t *testing.T, path string) sessionRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var found []sessionRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r sessionRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %q: %v", path, sc.Text(), err)
		}
		if r.Kind == "end" {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d end records, want 1", path, len(found))
	}
	return found[0]
}
