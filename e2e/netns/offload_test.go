package netns

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
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

// offloadTOS is the TOS byte (IPv4) or Traffic Class (IPv6) the offload
// test's client and peer send with: DSCP EF (46) and ECN ECT(0), which the
// relay must carry over in both directions, in the kernel as in user space.
const offloadTOS = 46<<2 | 0b10

// The IPv6 addresses the offload test adds to the topology: the edge's
// listener and relay addresses and the client and the peer beside them.
const (
	clientAddr6   = "fd99:1::2"
	edgeInternal6 = "fd99:1::1"
	edgeExternal6 = "fd99:2::1"
	peerAddr6     = "fd99:2::2"
)

// TestOffloadedEdge runs an edge between the client and the peer
// namespaces, whose veths send complete checksums as real NICs' wires do,
// with datapath.offload: tc, xdp and off (testdata/offload.yaml), over
// IPv4 and over IPv6, and offloaded with wildcard listeners (0.0.0.0 and
// [::]) too. In each case a client
// binds a channel to an echo on the peer and exchanges offloadPackets
// datagrams each way over it, with a DSCP and ECN mark: all arrive with
// their mark, the relayed-packet metrics count them all and the session
// record written when the edge stops holds exactly what was sent. With the
// offload, the edge's sockets receive hardly any datagram (the requests,
// not the media: the packets went through the kernel path); without it,
// every datagram crosses them. At XDP, the client's and the peer's veths
// run NAPI (GRO on), which a veth needs to receive what an XDP program
// redirects to it, and the edge has talked to the peer before (a TCP
// attempt), so that its kernel knows the peer's MAC address: the first
// datagrams toward a neighbour the edge does not know yet go through user
// space, which internal/offload's TestXDPUnknownNextHop tests.
func TestOffloadedEdge(t *testing.T) {
	avedge := shipped.Build(t, "cmd/avedge")
	helper := netnstest.Build(t, "netns/testdata/helper")
	for _, mode := range []string{"tc", "xdp", "off"} {
		for _, family := range []int{4, 6} {
			t.Run(fmt.Sprintf("%s/ipv%d", mode, family), func(t *testing.T) {
				testOffloadedEdge(t, avedge, helper, mode, family, false)
			})
		}
	}
	// Wildcard listeners: the channels are installed with the address the
	// kernel answers the client from, on every Ethernet interface.
	for _, mode := range []string{"tc", "xdp"} {
		for _, family := range []int{4, 6} {
			t.Run(fmt.Sprintf("%s/ipv%d/wildcard", mode, family), func(t *testing.T) {
				testOffloadedEdge(t, avedge, helper, mode, family, true)
			})
		}
	}
}

func testOffloadedEdge(t *testing.T, avedge, helper, mode string, family int, wildcard bool) {
	n := newOffloadTopology(t, helper)
	offloaded := mode != "off"
	if mode == "xdp" {
		enableGRO(t, n, helper)
		learnPeer(t, n, helper, family)
	}
	path, dir := writeConfig(t, avedge, "offload.yaml")
	setOffloadMode(t, path, mode)
	if wildcard {
		replaceInFile(t, path, "address: 10.99.1.1:3478", "address: 0.0.0.0:3478")
		replaceInFile(t, path, `address: "[fd99:1::1]:3478"`, `address: "[::]:3478"`)
	}
	cred := issueCredential(t, n, avedge, path)
	edge := startOffloadEdge(t, n, avedge, path, offloaded)
	if offloaded {
		waitProgramsAt(t, n, helper, mode, 1)
	}

	rx := exchange(t, n, helper, cred, family, offloadPackets)
	t.Logf("edge sockets received %v datagrams for %d relayed each way", rx, offloadPackets)
	switch {
	case offloaded && rx > offloadPackets/10:
		t.Errorf("the edge's sockets received %v datagrams while %d were relayed each way: not offloaded", rx, offloadPackets)
	case mode == "off" && rx < 2*offloadPackets:
		t.Errorf("the edge's sockets received %v datagrams, want at least %d (every datagram, both ways)", rx, 2*offloadPackets)
	}
	// Exactly: a packet counted both in the kernel and in user space
	// would show as more.
	for _, dir := range []string{"to_peer", "to_client"} {
		if got := waitCounter(t, n, helper, "avedge_relayed_packets_total", `direction="`+dir+`"`, offloadPackets); got != offloadPackets {
			t.Errorf("avedge_relayed_packets_total{direction=%q} = %v, want %d", dir, got, offloadPackets)
		}
	}
	if offloaded {
		for _, dir := range []string{"to_peer", "to_client"} {
			if got := counter(t, n, helper, "avedge_offload_packets_total", `result="`+dir+`"`); got != offloadPackets {
				t.Errorf("avedge_offload_packets_total{result=%q} = %v, want %d", dir, got, offloadPackets)
			}
		}
	}

	// Stopping the edge ends the allocation: its record holds what was
	// relayed, in the kernel or not; and the program is detached.
	if err := edge.Stop(); err != nil {
		t.Logf("edge stopped: %v", err)
	}
	waitProgramsAt(t, n, helper, mode, 0)
	rec := onlyRecord(t, filepath.Join(dir, "sessions.jsonl"))
	size := uint64(len("offloaded-0000000"))
	if rec.ToPeerPackets != offloadPackets || rec.ToClientPackets != offloadPackets ||
		rec.ToPeerBytes != offloadPackets*size || rec.ToClientBytes != offloadPackets*size {
		t.Errorf("record %+v, want %d packets of %d bytes each way", rec, offloadPackets, size)
	}
}

// TestOffloadAfterCrash: an offloaded edge killed at once (SIGKILL, as a
// crash or an OOM kill would) leaves no program attached to the
// interfaces (the tcx links die with the process: nothing is pinned), and
// an edge started again in its place attaches and relays in the kernel.
func TestOffloadAfterCrash(t *testing.T) {
	avedge := shipped.Build(t, "cmd/avedge")
	helper := netnstest.Build(t, "netns/testdata/helper")
	n := newOffloadTopology(t, helper)
	path, _ := writeConfig(t, avedge, "offload.yaml")
	cred := issueCredential(t, n, avedge, path)
	const count = 20
	for _, run := range []string{"first", "after the crash"} {
		edge := startOffloadEdge(t, n, avedge, path, true)
		waitPrograms(t, n, helper, 1)
		if rx := exchange(t, n, helper, cred, 4, count); rx > count/2 {
			t.Errorf("%s run: the edge's sockets received %v datagrams for %d relayed each way: not offloaded", run, rx, count)
		}
		if err := edge.Kill(); err != nil {
			t.Fatal(err)
		}
		waitPrograms(t, n, helper, 0)
	}
}

// newOffloadTopology is newTopology with IPv6 addresses beside the IPv4
// ones, and the client's and the peer's veths sending complete checksums.
func newOffloadTopology(t *testing.T, helper string) *netnstest.Net {
	t.Helper()
	n := newTopology(t)
	// netnstest names each veth end after the namespace at the other end.
	n.MustExec(nsEdge, "ip", "addr", "add", edgeInternal6+"/64", "dev", edgeInternalDev, "nodad")
	n.MustExec(nsEdge, "ip", "addr", "add", edgeExternal6+"/64", "dev", edgeExternalDev, "nodad")
	n.MustExec(nsClient, "ip", "addr", "add", clientAddr6+"/64", "dev", nsEdge, "nodad")
	n.MustExec(nsPeer, "ip", "addr", "add", peerAddr6+"/64", "dev", nsEdge, "nodad")
	n.Sysctl(nsEdge, "net.ipv6.conf.all.forwarding", "0")
	for _, ns := range []string{nsClient, nsPeer} {
		if out, err := n.Exec(ns, helper, "nocsum", "-dev", nsEdge); err != nil {
			t.Fatalf("%s: nocsum: %v (%s)", ns, err, out)
		}
	}
	return n
}

// enableGRO turns GRO on for the client's and the peer's veths (their
// ends of the edge's), so that they run NAPI and receive the frames the
// edge's XDP program redirects to them.
func enableGRO(t *testing.T, n *netnstest.Net, helper string) {
	t.Helper()
	for _, ns := range []string{nsClient, nsPeer} {
		if out, err := n.Exec(ns, helper, "gro", "-dev", nsEdge); err != nil {
			t.Fatalf("%s: gro: %v (%s)", ns, err, out)
		}
	}
}

// learnPeer has the edge's kernel resolve the peer's MAC address in
// family (4 or 6): a TCP attempt from the edge namespace to a closed port
// of the peer, refused once the peer's answer came back.
func learnPeer(t *testing.T, n *netnstest.Net, helper string, family int) {
	t.Helper()
	to := peerAddr + ":1"
	if family == 6 {
		to = "[" + peerAddr6 + "]:1"
	}
	out, err := n.Exec(nsEdge, helper, "dial", "-to", to, "-timeout", "5s")
	if err != nil || !strings.Contains(string(out), "refused") {
		t.Fatalf("dial %s from the edge: %v (%s), want refused", to, err, out)
	}
}

// issueCredential issues a credential for alice with the configuration at
// path.
func issueCredential(t *testing.T, n *netnstest.Net, avedge, path string) credential {
	t.Helper()
	out, err := n.Exec(nsEdge, avedge, "creds", "issue", "--config", path, "--user", "alice")
	if err != nil {
		t.Fatalf("creds issue: %v\n%s", err, out)
	}
	var cred credential
	if err := json.Unmarshal(out, &cred); err != nil {
		t.Fatalf("creds issue printed %q: %v", out, err)
	}
	return cred
}

// startOffloadEdge starts the edge with the configuration at path and
// checks that it attached the offload, or did not.
func startOffloadEdge(t *testing.T, n *netnstest.Net, avedge, path string, offloaded bool) *netnstest.Proc {
	t.Helper()
	edge := n.StartWith(nsEdge, netnstest.StartOptions{Env: []string{"XDG_STATE_HOME=" + t.TempDir()}, Limit: edgeLimit},
		avedge, "serve", "--config", path)
	edge.WaitStderr("serving", readyLimit)
	if attached := strings.Contains(edge.Stderr(), "offload: attached"); attached != offloaded {
		t.Fatalf("the edge logged the offload's attachment: %v, want %v:\n%s", attached, offloaded, edge.Stderr())
	}
	return edge
}

// exchange allocates over family (4 or 6), binds a channel to an echo on
// the peer and relays count datagrams each way over it, each marked with
// offloadTOS, failing the test unless every one comes back with its mark
// and the echo saw only that mark. It returns how many datagrams the
// edge's sockets received meanwhile.
func exchange(t *testing.T, n *netnstest.Net, helper string, cred credential, family, count int) float64 {
	t.Helper()
	server, peerEcho := edgeInternal+":3478", fmt.Sprintf("%s:%d", peerAddr, echoPort)
	if family == 6 {
		server, peerEcho = "["+edgeInternal6+"]:3478", fmt.Sprintf("[%s]:%d", peerAddr6, echoPort)
	}
	echo := n.StartWith(nsPeer, netnstest.StartOptions{Limit: 60 * time.Second}, helper,
		"echo", "-listen", peerEcho, "-count", fmt.Sprint(count), "-tos", "0", "-timeout", "50s")
	if got := echo.Line(lineLimit); got != `{"listening":true}` {
		t.Fatalf("peer echo: %q, want listening", got)
	}
	p := n.StartWith(nsClient, netnstest.StartOptions{Limit: 60 * time.Second}, helper, "turn",
		"-server", server, "-family", fmt.Sprint(family), "-tos", fmt.Sprint(offloadTOS),
		"-user", cred.Username, "-password", cred.Password, "-realm", cred.Realm, "-timeout", "3s")
	var res struct {
		Relayed string `json:"relayed"`
	}
	if line := p.Line(lineLimit); json.Unmarshal([]byte(line), &res) != nil {
		t.Fatalf("client: %q, want its relayed address", line)
	}
	wantRelayed := map[int]string{4: edgeExternal, 6: edgeExternal6}[family]
	if ap, err := netip.ParseAddrPort(res.Relayed); err != nil || ap.Addr() != netip.MustParseAddr(wantRelayed) {
		t.Fatalf("relayed address %q, want one on %s", res.Relayed, wantRelayed)
	}
	c := &turnClient{t: t, p: p, name: "client", relayed: res.Relayed}
	c.wantCode("bind "+peerEcho, 0)

	rxBefore := counter(t, n, helper, "avedge_socket_packets_total", `direction="rx"`)
	// 17 bytes: the helper pads its ChannelData to 4 bytes, so 3 bytes
	// of padding that the kernel path trims.
	for i := range count {
		data := fmt.Sprintf("offloaded-%07d", i)
		c.send("chan", peerEcho, data)
		a := c.do("recv")
		if !a.Received || a.From != peerEcho || a.Data != data || a.TOS == nil || *a.TOS != offloadTOS {
			t.Fatalf("datagram %d: received %+v, want %q from %s with TOS %#02x", i, a, data, peerEcho, offloadTOS)
		}
	}
	rx := counter(t, n, helper, "avedge_socket_packets_total", `direction="rx"`) - rxBefore
	if got, want := echo.Line(lineLimit), fmt.Sprintf(`{"echoed":%d,"tos":[%d]}`, count, offloadTOS); got != want {
		t.Errorf("peer echo: %s, want %s (every datagram with its DSCP and ECN)", got, want)
	}
	return rx
}

// waitPrograms polls the number of eBPF programs at the tcx ingress of
// both of the edge's interfaces until it is want on each, failing the test
// after counterLimit (a link closed with its process is freed by the
// kernel shortly after, not at once).
func waitPrograms(t *testing.T, n *netnstest.Net, helper string, want int) {
	t.Helper()
	waitProgramsAt(t, n, helper, "tc", want)
}

// waitProgramsAt is waitPrograms at the hook of mode: tcx ingress for tc
// and off, XDP for xdp.
func waitProgramsAt(t *testing.T, n *netnstest.Net, helper, mode string, want int) {
	t.Helper()
	deadline := time.Now().Add(counterLimit)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		got := map[string]int{}
		for _, dev := range []string{edgeInternalDev, edgeExternalDev} {
			if mode == "xdp" {
				got[dev] = xdpPrograms(t, n, dev)
				continue
			}
			out, err := n.Exec(nsEdge, helper, "tcx", "-dev", dev)
			var r struct {
				Programs *int `json:"programs"`
			}
			if err != nil || json.Unmarshal(out, &r) != nil || r.Programs == nil {
				t.Fatalf("tcx -dev %s: %v (%s)", dev, err, out)
			}
			got[dev] = *r.Programs
		}
		if got[edgeInternalDev] == want && got[edgeExternalDev] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("programs at the %s hook %v after %v, want %d on each", mode, got, counterLimit, want)
		}
		<-tick.C
	}
}

// xdpPrograms returns how many XDP programs run in driver mode on the
// edge's interface dev (0 or 1), as ip -details link reports it.
func xdpPrograms(t *testing.T, n *netnstest.Net, dev string) int {
	t.Helper()
	out, err := n.Exec(nsEdge, "ip", "-details", "link", "show", "dev", dev)
	if err != nil {
		t.Fatalf("ip link show dev %s: %v (%s)", dev, err, out)
	}
	return strings.Count(string(out), "prog/xdp ")
}

// setOffloadMode sets datapath.offload in the configuration at path, which
// testdata/offload.yaml sets to tc.
func setOffloadMode(t *testing.T, path, mode string) {
	t.Helper()
	replaceInFile(t, path, "\n  offload: tc\n", "\n  offload: "+mode+"\n")
}

// replaceInFile replaces the first old in the file at path with new,
// failing the test when the file does not hold old.
func replaceInFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not say %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o600); err != nil {
		t.Fatal(err)
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
