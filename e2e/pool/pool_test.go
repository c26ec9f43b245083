package pool

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avedge/avedge/e2e/internal/shipped"
	"github.com/avedge/avedge/internal/netnstest"
)

// Addresses: the client sits behind the load balancer on 10.98.1.0/24 and
// reaches the pool at the virtual address vip; the nodes and the peer share
// a bridge in the load balancer's namespace, 10.98.2.0/24.
const (
	vip       = "10.98.0.10"
	lbClient  = "10.98.1.1"
	client    = "10.98.1.2"
	lbBridge  = "10.98.2.1"
	peer      = "10.98.2.20"
	turnPort  = 3478
	frontPort = 3479 // each node's front listener, where the load balancer sends clients
	adminPort = 9090
	echoPort  = 7000
	realm     = "pool.avedge.test"
	secret    = "pool-test-secret-0123456789abcdef"
)

// nodeAddrs are the addresses of the three edge nodes.
var nodeAddrs = []string{"10.98.2.11", "10.98.2.12", "10.98.2.13"}

const (
	// callLength is how long each call lasts; a draining node exits once
	// the calls it holds have ended, so a drain takes about this long.
	callLength = 2 * time.Second
	// slots is the number of concurrent calls.
	slots = 9
	// eventLimit bounds the wait for one event of the client helper.
	eventLimit = 20 * time.Second
	// healthEvery is the load balancer's health-check period.
	healthEvery = 200 * time.Millisecond
)

// event is one JSON line of poolclient calls.
type event struct {
	Event     string `json:"event"`
	Call      string `json:"call"`
	Server    string `json:"server"`
	Relayed   string `json:"relayed"`
	Redirects int    `json:"redirects"`
	Sent      int    `json:"sent"`
	Received  int    `json:"received"`
	Error     string `json:"error"`
	Code      int    `json:"code"` // of an error answer
	// at is when the test read the event.
	at time.Time
}

// node returns the index of the node whose address ap (a relayed or
// server address) is on, or -1.
func node(ap string) int {
	a, err := netip.ParseAddrPort(ap)
	if err != nil {
		return -1
	}
	return slices.Index(nodeAddrs, a.Addr().String())
}

// pool is the running topology.
type pool struct {
	t      *testing.T
	n      *netnstest.Net
	avedge string
	helper string
	dir    string
	nodes  []*netnstest.Proc
	lb     *balancer
	// full is the node with room for two allocations only, or -1.
	full int
	// holds are sessions, one on each node, that keep a draining node up
	// until rollingDrain has sent a client to it directly: the calls the
	// node holds may all end before then.
	holds []*liveSession
}

func TestPool(t *testing.T) {
	n := netnstest.New(t, "avedge-pool")
	p := &pool{t: t, n: n, dir: t.TempDir(), full: fullNode}
	p.avedge = shipped.Build(t, "cmd/avedge")
	p.helper = netnstest.Build(t, "pool/testdata/poolclient")
	p.topology()
	n.Start("peer", p.helper, "echo", "-listen", fmt.Sprintf("%s:%d", peer, echoPort), "-timeout", "3m").Line(eventLimit)
	p.nodes = make([]*netnstest.Proc, len(nodeAddrs))
	for i := range nodeAddrs {
		p.startNode(i)
	}
	p.lb = startBalancer(t, n, p.helper)
	p.lb.waitHealthy(t, []int{0, 1, 2})

	for i := range nodeAddrs {
		p.holds = append(p.holds, p.startSession(fmt.Sprintf("hold-%d", i), i, "udp"))
	}
	calls := n.Start("client", p.helper, "calls", "-server", fmt.Sprintf("%s:%d", vip, turnPort),
		"-peer", fmt.Sprintf("%s:%d", peer, echoPort), "-secret", secret, "-realm", realm,
		"-slots", fmt.Sprint(slots), "-call", callLength.String(), "-rate", "50", "-stall", "1s")
	log := newEventLog(t, calls)

	// 1. Allocations spread over the nodes, each on the node's own address.
	log.waitFor(t, "allocations on every node", func(evs []event) bool {
		var seen [3]bool
		for _, e := range evs {
			if e.Event == "allocated" {
				if i := node(e.Relayed); i >= 0 {
					seen[i] = true
				}
			}
		}
		return seen[0] && seen[1] && seen[2]
	})

	// 2. A rolling drain: each node in turn drains, exits once its calls
	// have ended, and comes back.
	for i := range nodeAddrs {
		p.rollingDrain(i)
	}

	// 3. A killed node: its calls lose their allocations and re-allocate
	// on the others.
	killed := 2
	log.waitFor(t, "a live call on the node to kill", func(evs []event) bool {
		return liveOn(evs, killed)
	})
	mark := log.len()
	if err := p.nodes[killed].Kill(); err != nil {
		t.Fatalf("kill node %d: %v", killed, err)
	}
	p.lb.waitHealthy(t, []int{0, 1})
	log.waitFor(t, "calls of the killed node re-allocated on the others", func(evs []event) bool {
		return recovered(evs[mark:], killed)
	})

	calls.WriteLine("stop")
	log.waitFor(t, "the calls to end", func(evs []event) bool {
		return len(evs) > 0 && evs[len(evs)-1].Event == "done"
	})
	p.check(log.all(), mark, killed)
}

// rollingDrain drains node i through its admin endpoint, from the load
// balancer's namespace with the admin token, and waits until it has
// exited: "avedge drain --wait" returns when the node's last allocation
// has ended. Meanwhile the health check takes the node out of the load
// balancer, and an Allocate sent to the node directly is redirected to a
// sibling; only then does the node's hold session end, so that the node
// is still up to answer it. The node exits with status 75, which asks its service manager
// to start it again; then the node starts again and rejoins.
func (p *pool) rollingDrain(i int) {
	t := p.t
	others := slices.DeleteFunc([]int{0, 1, 2}, func(j int) bool { return j == i })
	// Without the token, the drain is refused and the node stays ready.
	if out, err := p.n.Exec("lb", p.avedge, "drain", "--admin", fmt.Sprintf("http://%s:%d", nodeAddrs[i], adminPort),
		"--token-file", p.wrongTokenFile()); err == nil || !strings.Contains(err.Error(), "refused the admin token") {
		t.Fatalf("drain of node %d with a wrong token: %v\n%s", i, err, out)
	}
	drain := p.n.Start("lb", p.avedge, "drain", "--admin", fmt.Sprintf("http://%s:%d", nodeAddrs[i], adminPort),
		"--token-file", p.tokenFile(), "--wait")
	if line := drain.Line(eventLimit); line != "draining" {
		t.Fatalf("drain node %d: %q", i, line)
	}
	p.lb.waitHealthy(t, others)
	// A client that reaches the draining node directly is sent on.
	out, err := p.n.Exec("client", p.helper, "calls", "-server", fmt.Sprintf("%s:%d", nodeAddrs[i], turnPort),
		"-peer", fmt.Sprintf("%s:%d", peer, echoPort), "-secret", secret, "-realm", realm,
		"-slots", "1", "-count", "1", "-call", "300ms")
	if err != nil {
		t.Fatalf("a call to draining node %d: %v", i, err)
	}
	evs := parseEvents(t, string(out))
	if len(evs) < 2 || evs[0].Event != "allocated" || evs[0].Redirects < 1 || !slices.Contains(others, node(evs[0].Server)) ||
		node(evs[0].Relayed) != node(evs[0].Server) {
		t.Fatalf("an Allocate at draining node %d: %+v, want a redirect to a sibling, relayed there", i, evs)
	}
	p.holds[i].proc.WriteLine("end")
	if line := drain.Line(callLength + eventLimit); line != "exited" {
		t.Fatalf("drain --wait of node %d: %q", i, line)
	}
	select {
	case <-p.nodes[i].Done():
	case <-time.After(eventLimit):
		t.Fatalf("node %d: drain --wait returned, but the process is still running", i)
	}
	var exit *exec.ExitError
	if err := p.nodes[i].Err(); !errors.As(err, &exit) || exit.ExitCode() != 75 {
		t.Fatalf("node %d exited after its drain with %v, want exit status 75:\n%s", i, err, p.nodes[i].Stderr())
	}
	if !strings.Contains(p.nodes[i].Stderr(), "drained") {
		t.Fatalf("node %d exited without draining:\n%s", i, p.nodes[i].Stderr())
	}
	p.startNode(i)
	p.lb.waitHealthy(t, []int{0, 1, 2})
}

// liveOn reports whether a call allocated on node i has neither ended nor
// lost its allocation yet.
func liveOn(evs []event, i int) bool {
	live := map[string]bool{}
	for _, e := range evs {
		switch {
		case e.Event == "allocated" && node(e.Relayed) == i:
			live[e.Call] = true
		case e.Event == "ended" || e.Event == "lost":
			delete(live, e.Call)
		}
	}
	return len(live) > 0
}

// recovered reports whether, in evs, every call that lost an allocation on
// node killed got a new allocation on another node and relayed media there.
func recovered(evs []event, killed int) bool {
	lost := map[string]bool{}
	for _, e := range evs {
		if e.Event == "lost" && node(e.Relayed) == killed {
			lost[e.Call] = true
		}
	}
	if len(lost) == 0 {
		return false
	}
	for _, e := range evs {
		if (e.Event == "ended" || e.Event == "lost") && lost[e.Call] && node(e.Relayed) != killed && e.Received > 0 {
			delete(lost, e.Call)
		}
	}
	return len(lost) == 0
}

// check asserts what the whole run shows: before the kill (events before
// mark), no allocation was lost, no Allocate failed and every call ended
// with its Refresh 0 answered and its media echoed; after it, losses and
// failures concern the killed node only.
func (p *pool) check(evs []event, mark, killed int) {
	t := p.t
	perNode, redirected := [3]int{}, 0
	for k, e := range evs {
		before := k < mark
		switch e.Event {
		case "allocated":
			i := node(e.Relayed)
			// The front listener sends every client on to its node's own
			// address: the allocation lives there, not behind the virtual
			// address; a second redirect is a full or draining node's.
			if i < 0 || e.Redirects < 1 || node(e.Server) != i || strings.HasSuffix(e.Server, fmt.Sprintf(":%d", frontPort)) {
				t.Errorf("allocation %+v: not on a node's own address after a redirect", e)
				continue
			}
			if e.Redirects > 1 {
				redirected++
			}
			perNode[i]++
		case "lost":
			if before || node(e.Relayed) != killed {
				t.Errorf("lost allocation %+v: only the killed node's may be lost, after the kill", e)
			}
		case "failed":
			if before || !strings.Contains(e.Error, "no answer") {
				t.Errorf("failed Allocate %+v: only Allocates sent to the killed node may fail, after the kill", e)
			}
		case "ended":
			if e.Error != "" {
				t.Errorf("call %s: Refresh 0 at %s: %s", e.Call, e.Server, e.Error)
			}
			// Loopback-fast namespaces: every echo comes back but those in
			// flight when the call ends.
			if e.Sent == 0 || e.Received < e.Sent*95/100 {
				t.Errorf("call %s on %s: %d of %d datagrams echoed", e.Call, e.Relayed, e.Received, e.Sent)
			}
		}
	}
	for i, c := range perNode {
		if c == 0 {
			t.Errorf("node %d got no allocation (per node: %v)", i, perNode)
		}
	}
	// The full node sends most of the calls the load balancer gives it on.
	if redirected == 0 {
		t.Errorf("no allocation was redirected a second time, by the full node %d", fullNode)
	}
	t.Logf("allocations per node: %v, redirected: %d; events: %d", perNode, redirected, len(evs))
}

// topology creates the namespaces: lb routes between the client's subnet
// and a bridge holding the nodes and the peer.
func (p *pool) topology() {
	n := p.n
	for _, ns := range []string{"lb", "client", "peer", "e0", "e1", "e2"} {
		n.Add(ns)
	}
	n.Sysctl("lb", "net.ipv4.ip_forward", "1")
	n.Link("lb", "client", lbClient+"/24", client+"/24")
	n.MustExec("client", "ip", "route", "add", "default", "via", lbClient)
	n.MustExec("lb", "ip", "link", "add", "br0", "type", "bridge")
	n.MustExec("lb", "ip", "addr", "add", lbBridge+"/24", "dev", "br0")
	n.MustExec("lb", "ip", "link", "set", "br0", "up")
	for i, ns := range []string{"e0", "e1", "e2", "peer"} {
		addr := peer
		if i < len(nodeAddrs) {
			addr = nodeAddrs[i]
		}
		v := n.Link("lb", ns, "", addr+"/24")
		n.MustExec("lb", "ip", "link", "set", v.A, "master", "br0")
		n.MustExec(ns, "ip", "route", "add", "default", "via", lbBridge)
	}
}

// fullNode is TestPool's node with room for two allocations only: the
// others get the clients it cannot take, by 300 Try Alternate.
const fullNode = 0

// revocationsPoll is how often every node checks the revocations file.
const revocationsPoll = time.Second

// revocationsFile is the revocations file every node of the pool shares.
func (p *pool) revocationsFile() string { return filepath.Join(p.dir, "revocations.json") }

// recordsFile is node i's session records.
func (p *pool) recordsFile(i int) string {
	return filepath.Join(p.dir, fmt.Sprintf("node%d.records", i))
}

// tokenFile is the admin token's file, which every node's configuration
// names; it is written on first use.
func (p *pool) tokenFile() string {
	path := filepath.Join(p.dir, "admin.token")
	if _, err := os.Stat(path); err != nil {
		if err := os.WriteFile(path, []byte("pool-test-admin-token-0123456789abcdef\n"), 0o600); err != nil {
			p.t.Fatal(err)
		}
	}
	return path
}

// wrongTokenFile is a file holding another admin token than the nodes'.
func (p *pool) wrongTokenFile() string {
	path := filepath.Join(p.dir, "wrong.token")
	if err := os.WriteFile(path, []byte("not-the-pool-admin-token-0123456789\n"), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// startNode writes node i's configuration and starts it. Every node lists
// every node, itself included (left out by the configuration), as the
// pool's siblings. Every node watches one revocations file, as the nodes
// of a pool share a directory, and serves TURN over TCP beside UDP. The
// admin listener takes every address: the load balancer checks health on
// the node's address, and the drain and session control commands send
// the admin token of one file the nodes share.
func (p *pool) startNode(i int) {
	t := p.t
	var siblings []string
	for _, a := range nodeAddrs {
		siblings = append(siblings, fmt.Sprintf("%q", fmt.Sprintf("%s:%d", a, turnPort)))
	}
	total := 1000
	if i == p.full {
		total = 2
	}
	cfg := fmt.Sprintf(`realm: %s
listeners:
  - {protocol: udp, address: "%[2]s:%[3]d"}
  - {protocol: tcp, address: "%[2]s:%[3]d"}
  - {protocol: udp, address: "%[2]s:%[8]d", redirect_to: "%[2]s:%[3]d"}
relay:
  address: %[2]s
  ports: 40000-40999
auth:
  secrets:
    - {id: pool, secret: %[4]s}
  nonce_key: pool-test-nonce-key-0123456789abcdef
  revocations_file: %[9]q
  revocations_poll: %[10]s
records:
  output: %[11]q
peers:
  allow: [10.98.2.0/24]
quotas:
  allocations_total: %[7]d
admin:
  listen: "0.0.0.0:%[5]d"
  token_file: %[12]q
drain:
  timeout: 1m
pool:
  alternate_servers: [%[6]s]
`, realm, nodeAddrs[i], turnPort, secret, adminPort, strings.Join(siblings, ", "), total, frontPort,
		p.revocationsFile(), revocationsPoll, p.recordsFile(i), p.tokenFile())
	path := filepath.Join(p.dir, fmt.Sprintf("node%d.yaml", i))
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	proc := p.n.StartWith(fmt.Sprintf("e%d", i), netnstest.StartOptions{Limit: 3 * time.Minute},
		p.avedge, "serve", "--config", path)
	proc.WaitStderr("serving", eventLimit)
	p.nodes[i] = proc
}

// eventLog collects the client helper's events as they come.
type eventLog struct {
	mu      sync.Mutex
	evs     []event
	changed chan struct{} // closed and replaced on each new event
	ended   chan struct{} // closed when the output ends
	bad     []string
}

func newEventLog(t *testing.T, proc *netnstest.Proc) *eventLog {
	l := &eventLog{changed: make(chan struct{}), ended: make(chan struct{})}
	go func() {
		defer close(l.ended)
		for line := range proc.Lines() {
			e := event{at: time.Now()}
			err := json.Unmarshal([]byte(line), &e)
			l.mu.Lock()
			if err != nil {
				l.bad = append(l.bad, line)
			} else {
				l.evs = append(l.evs, e)
			}
			close(l.changed)
			l.changed = make(chan struct{})
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if len(l.bad) > 0 {
			t.Errorf("poolclient printed lines that are not events: %q", l.bad)
		}
	})
	return l
}

func (l *eventLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.evs)
}

func (l *eventLog) all() []event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.evs)
}

// waitFor waits until cond holds for the events so far, failing the test
// after eventLimit, or when the output ends first.
func (l *eventLog) waitFor(t *testing.T, what string, cond func([]event) bool) {
	t.Helper()
	l.waitWithin(t, what, eventLimit, cond)
}

// waitWithin is waitFor with the limit d.
func (l *eventLog) waitWithin(t *testing.T, what string, d time.Duration, cond func([]event) bool) {
	t.Helper()
	limit := time.After(d)
	for {
		l.mu.Lock()
		evs, changed := slices.Clone(l.evs), l.changed
		l.mu.Unlock()
		if cond(evs) {
			return
		}
		select {
		case <-changed:
		case <-l.ended:
			if evs := l.all(); cond(evs) {
				return
			}
			t.Fatalf("waiting for %s: the client helper ended; events: %+v", what, l.all())
		case <-limit:
			t.Fatalf("waiting for %s: not within %v; events: %+v", what, d, evs)
		}
	}
}

// parseEvents decodes the JSON lines of a helper run to completion.
func parseEvents(t *testing.T, out string) []event {
	t.Helper()
	var evs []event
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("poolclient line %q: %v", line, err)
		}
		evs = append(evs, e)
	}
	return evs
}
