package pool

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/e2e/internal/shipped"
	"github.com/avedge/avedge/internal/netnstest"
	"github.com/avedge/avedge/internal/sessions"
)

const (
	// revoked is the identity the operator revokes; kept is another,
	// whose sessions must live on.
	revoked = "mallory"
	kept    = "alice"
	// caller is the node whose admin endpoint gets the operator's call.
	caller = 0
	// restarted is the node restarted while the revocation stands.
	restarted = 2
	// localBound is how soon the sessions of a revoked identity end on
	// the node that got the call; poolBound how soon on the others.
	localBound = time.Second
	poolBound  = time.Minute
	// stall is how long a session's client waits for an echo before it
	// asks the server, with a Refresh, whether its allocation lives.
	stall = 200 * time.Millisecond
	// retryEvery spaces the Allocates that wait for a lift to reach a
	// node, as a client's back-off would: each refused one costs the
	// client's address two tokens of the node's unauthenticated limit
	// (limits.unauthenticated_rate, 10 a second).
	retryEvery = 250 * time.Millisecond
	// pollEvery spaces the looks at what has no signal to wait for: a
	// node's session list, its records file.
	pollEvery = 50 * time.Millisecond
)

// TestPoolRevocation revokes an identity through one node's admin endpoint
// with "avedge sessions revoke", run on that node's host (its namespace)
// against its loopback address, in a pool of three nodes that share one
// revocations file, each checking it every second (auth.revocations_file,
// auth.revocations_poll). The identity has live sessions on every node:
// TURN over UDP on each, and on the node that gets the call also TURN over
// TCP and an RFC 6062 TCP relay; another identity has sessions on two
// nodes.
//
// It shows the revoked identity's sessions end within a second on the node
// that got the call and within a minute on the others (by their admin
// endpoints' session lists, by their clients, which see their allocation
// refused or their connections closed, and by the nodes' records, which
// give the reason "revoked"); the other identity's sessions live on; new
// Allocates of the revoked identity get 401 on every node while the other
// identity's succeed; a restarted node loads the revocation from the file
// and refuses the identity too; and "avedge sessions lift" on the node
// that got the call restores the identity's Allocates on every node.
func TestPoolRevocation(t *testing.T) {
	n := netnstest.New(t, "avedge-pool")
	p := &pool{t: t, n: n, dir: t.TempDir(), full: -1}
	p.avedge = shipped.Build(t, "cmd/avedge")
	p.helper = netnstest.Build(t, "pool/testdata/poolclient")
	p.topology()
	n.Start("peer", p.helper, "echo", "-listen", fmt.Sprintf("%s:%d", peer, echoPort), "-tcp", "-timeout", "3m").Line(eventLimit)
	p.nodes = make([]*netnstest.Proc, len(nodeAddrs))
	for i := range nodeAddrs {
		p.startNode(i)
	}

	var mallory []*liveSession
	for i := range nodeAddrs {
		mallory = append(mallory, p.startSession(revoked, i, "udp"))
	}
	mallory = append(mallory, p.startSession(revoked, caller, "tcp"), p.startSession(revoked, caller, "tcp-relay"))
	alice := []*liveSession{p.startSession(kept, caller, "udp"), p.startSession(kept, 1, "udp")}
	wantKinds := []string{"tcp/tcp", "tcp/udp", "udp/udp"} // transport/relay_protocol
	if got := kinds(p.sessionsOf(caller, revoked)); !slices.Equal(got, wantKinds) {
		t.Fatalf("node %d lists %s's sessions %v, want %v", caller, revoked, got, wantKinds)
	}
	for _, i := range nodesBut(caller) {
		if got := kinds(p.sessionsOf(i, revoked)); !slices.Equal(got, []string{"udp/udp"}) {
			t.Fatalf("node %d lists %s's sessions %v, want one over UDP", i, revoked, got)
		}
	}

	// 1. The revocation, on the node that gets the call: its sessions there
	// end before the command returns.
	start := time.Now()
	if out := p.sessionsCmd(caller, "revoke", revoked); out != "revoked mallory until lifted; 3 live sessions ended" {
		t.Fatalf("avedge sessions revoke: %q", out)
	}
	if got := p.sessionsOf(caller, revoked); len(got) != 0 {
		t.Fatalf("node %d still lists %s's sessions after the revocation: %v", caller, revoked, kinds(got))
	}
	listed := time.Since(start)
	var local []time.Duration
	for _, s := range mallory {
		if s.node == caller {
			d, how := s.waitGone(t, start)
			local = append(local, d)
			t.Logf("node %d (the call): %s's %s client saw its session end %v after the revoke command started: %s",
				caller, revoked, s.transport, d.Round(time.Millisecond), how)
		}
	}
	if worst := slices.Max(append(local, listed)); worst >= localBound {
		t.Errorf("node %d: %s's sessions ended %v after the revocation (list empty after %v, clients saw it after %v), want < %v",
			caller, revoked, worst, listed, local, localBound)
	}
	t.Logf("node %d (the call): %s's sessions gone from its list %v after the revoke command started",
		caller, revoked, listed.Round(time.Millisecond))

	// 2. The other nodes read the revocations file and end theirs.
	emptied := p.waitNoSessions(nodesBut(caller), revoked, start)
	for _, s := range mallory {
		if s.node == caller {
			continue
		}
		seen, how := s.waitGone(t, start)
		if d := max(seen, emptied[s.node]); d >= poolBound {
			t.Errorf("node %d: %s's session ended %v after the revocation, want < %v", s.node, revoked, d, poolBound)
		}
		t.Logf("node %d: %s's session gone from its list %v after the revoke command started; its client saw it end after %v: %s (revocations_poll %v)",
			s.node, revoked, emptied[s.node].Round(time.Millisecond), seen.Round(time.Millisecond), how, revocationsPoll)
	}
	p.waitRecords(map[int][]string{caller: wantKinds, 1: {"udp/udp"}, 2: {"udp/udp"}})

	// 3. New Allocates: 401 for the revoked identity on every node, the
	// other identity's pass; its live sessions are still listed.
	for i := range nodeAddrs {
		p.wantRefused(i, revoked)
		if e := p.allocateAs(i, kept); e.Event != "allocated" || e.Error != "" {
			t.Errorf("node %d: an Allocate of %s while %s is revoked: %+v", i, kept, revoked, e)
		}
	}
	for _, s := range alice {
		if got := p.sessionsOf(s.node, kept); len(got) != 1 {
			t.Errorf("node %d lists %d sessions of %s after %s's revocation, want 1", s.node, len(got), kept, revoked)
		}
	}

	// 4. The revocation survives a restart: the file holds it, and the
	// restarted node loads it and refuses the identity.
	p.wantRevocationsFile(revoked)
	_ = p.nodes[restarted].Stop() // SIGINT: stop at once; its error is the interrupt
	p.startNode(restarted)
	if !strings.Contains(p.nodes[restarted].Stderr(), "revocations loaded") {
		t.Errorf("restarted node %d did not log loading the revocations:\n%s", restarted, p.nodes[restarted].Stderr())
	}
	if got := p.revocationsOf(restarted); len(got) != 1 || got[0].Identity != revoked || !got[0].Until.IsZero() {
		t.Errorf("restarted node %d lists the revocations %+v, want %s's until lifted", restarted, got, revoked)
	}
	p.wantRefused(restarted, revoked)

	// 5. The lift, on the node that got the call: at once there, within
	// the poll interval on the others (the restarted one included).
	liftStart := time.Now()
	if out := p.sessionsCmd(caller, "lift", revoked); out != "lifted the revocation of mallory" {
		t.Fatalf("avedge sessions lift: %q", out)
	}
	if e := p.allocateAs(caller, revoked); e.Event != "allocated" || e.Error != "" {
		t.Errorf("node %d: an Allocate of %s after the lift: %+v", caller, revoked, e)
	}
	for _, i := range nodesBut(caller) {
		d := p.waitAllocates(i, revoked, liftStart)
		t.Logf("node %d: %s allocates again %v after the lift command started", i, revoked, d.Round(time.Millisecond))
		if got := p.revocationsOf(i); len(got) != 0 {
			t.Errorf("node %d lists the revocations %+v after the lift", i, got)
		}
	}

	// 6. The other identity's sessions lived through it all: no Refresh
	// failed, the echo kept coming, and Refresh 0 deletes them.
	for _, s := range alice {
		s.proc.WriteLine("stop")
		s.log.waitFor(t, fmt.Sprintf("%s's session on node %d to end", kept, s.node), func(evs []event) bool {
			return slices.ContainsFunc(evs, func(e event) bool { return e.Event == "ended" || e.Event == "gone" })
		})
		for _, e := range s.log.all() {
			// Most of what it sent came back: its relaying never stopped
			// (a Refresh that succeeds after a stall would not show it).
			if e.Event == "gone" || (e.Event == "ended" && (e.Error != "" || e.Received < e.Sent*9/10)) {
				t.Errorf("%s's session on node %d: %+v", kept, s.node, e)
			}
		}
	}
}

// liveSession is a poolclient session: one long allocation of an
// identity on a node.
type liveSession struct {
	node      int
	transport string
	proc      *netnstest.Proc
	log       *eventLog
}

// startSession starts a session of identity at node i's TURN port over
// transport (see poolclient session) from the client's namespace and
// waits until it has allocated on node i.
func (p *pool) startSession(identity string, i int, transport string) *liveSession {
	t := p.t
	t.Helper()
	proc := p.n.StartWith("client", netnstest.StartOptions{Limit: 3 * time.Minute}, p.helper, "session",
		"-server", fmt.Sprintf("%s:%d", nodeAddrs[i], turnPort), "-transport", transport, "-identity", identity,
		"-peer", fmt.Sprintf("%s:%d", peer, echoPort), "-secret", secret, "-realm", realm,
		"-rate", "50", "-stall", stall.String())
	s := &liveSession{node: i, transport: transport, proc: proc, log: newEventLog(t, proc)}
	s.log.waitFor(t, fmt.Sprintf("%s's %s session on node %d", identity, transport, i), func(evs []event) bool {
		return len(evs) > 0
	})
	if e := s.log.all()[0]; e.Event != "allocated" || node(e.Relayed) != i {
		t.Fatalf("%s's %s session on node %d: %+v, want an allocation there", identity, transport, i, e)
	}
	return s
}

// waitGone waits for the session's client to see its allocation end (an
// error answer to a Refresh over UDP, the control connection closed over
// TCP) and returns how long after start it did and how it saw it.
func (s *liveSession) waitGone(t *testing.T, start time.Time) (time.Duration, string) {
	t.Helper()
	var gone event
	s.log.waitWithin(t, fmt.Sprintf("the session on node %d to end", s.node), poolBound, func(evs []event) bool {
		i := slices.IndexFunc(evs, func(e event) bool { return e.Event != "allocated" })
		if i >= 0 {
			gone = evs[i]
		}
		return i >= 0
	})
	switch {
	case gone.Event != "gone":
		t.Errorf("session on node %d: %+v, want it gone", s.node, gone)
	case gone.at.Before(start):
		t.Errorf("session on node %d ended before the revocation: %+v", s.node, gone)
	case strings.HasPrefix(gone.Error, "control connection"):
		// TCP: the node closed the connection; an RFC 6062 relay's data
		// connection with it.
		if !strings.Contains(gone.Error, "EOF") || strings.Contains(gone.Error, "still open") {
			t.Errorf("session on node %d: %s", s.node, gone.Error)
		}
	case gone.Code != 401 && gone.Code != 437:
		// UDP: its credential refused, or the allocation gone.
		t.Errorf("session on node %d: %+v, want a Refresh answered 401 or 437", s.node, gone)
	}
	return gone.at.Sub(start), gone.Error
}

// sessionsCmd runs "avedge sessions ARGS" in node i's namespace against
// its admin endpoint's loopback address, as an operator on the node's host
// would, with the admin token, and returns its output.
func (p *pool) sessionsCmd(i int, args ...string) string {
	p.t.Helper()
	args = append([]string{p.avedge, "sessions"}, args...)
	args = append(args, "--admin", fmt.Sprintf("http://127.0.0.1:%d", adminPort), "--token-file", p.tokenFile())
	out, err := p.n.Exec(fmt.Sprintf("e%d", i), args...)
	if err != nil {
		p.t.Fatalf("node %d: %q: %v\n%s", i, args[1:], err, out)
	}
	return strings.TrimSpace(string(out))
}

// sessionsOf returns the live sessions of identity node i lists.
func (p *pool) sessionsOf(i int, identity string) []sessions.Session {
	p.t.Helper()
	var list []sessions.Session
	if err := json.Unmarshal([]byte(p.sessionsCmd(i, "list", "--identity", identity, "--json")), &list); err != nil {
		p.t.Fatalf("node %d: avedge sessions list --json: %v", i, err)
	}
	return list
}

// revocationsOf returns the revocations node i lists.
func (p *pool) revocationsOf(i int) []sessions.Revocation {
	p.t.Helper()
	var list []sessions.Revocation
	if err := json.Unmarshal([]byte(p.sessionsCmd(i, "revocations", "--json")), &list); err != nil {
		p.t.Fatalf("node %d: avedge sessions revocations --json: %v", i, err)
	}
	return list
}

// kinds returns the sorted transport/relay protocol pairs of list.
func kinds(list []sessions.Session) []string {
	var ks []string
	for _, s := range list {
		ks = append(ks, s.Transport+"/"+s.RelayProtocol)
	}
	slices.Sort(ks)
	return ks
}

// waitNoSessions polls the session lists of nodes until none lists a
// session of identity, failing after poolBound, and returns for each node
// how long after start its list was first seen empty.
func (p *pool) waitNoSessions(nodes []int, identity string, start time.Time) map[int]time.Duration {
	t := p.t
	t.Helper()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	emptied := map[int]time.Duration{}
	for {
		for _, i := range nodes {
			if _, done := emptied[i]; !done && len(p.sessionsOf(i, identity)) == 0 {
				emptied[i] = time.Since(start)
			}
		}
		if len(emptied) == len(nodes) {
			return emptied
		}
		if time.Since(start) > poolBound {
			t.Fatalf("%s's sessions not ended on every node of %v within %v (ended: %v)", identity, nodes, poolBound, emptied)
		}
		<-tick.C
	}
}

// allocateAs makes one Allocate of identity at node i's TURN port from the
// client's namespace and returns its event.
func (p *pool) allocateAs(i int, identity string) event {
	p.t.Helper()
	out, err := p.n.Exec("client", p.helper, "allocate", "-server", fmt.Sprintf("%s:%d", nodeAddrs[i], turnPort),
		"-identity", identity, "-peer", fmt.Sprintf("%s:%d", peer, echoPort), "-secret", secret, "-realm", realm)
	if err != nil {
		p.t.Fatalf("node %d: an Allocate of %s: %v\n%s", i, identity, err, out)
	}
	evs := parseEvents(p.t, string(out))
	if len(evs) != 1 {
		p.t.Fatalf("node %d: an Allocate of %s: %+v, want one event", i, identity, evs)
	}
	return evs[0]
}

// wantRefused checks that node i answers an Allocate of identity with 401.
func (p *pool) wantRefused(i int, identity string) {
	p.t.Helper()
	if e := p.allocateAs(i, identity); e.Event != "failed" || e.Code != 401 {
		p.t.Errorf("node %d: an Allocate of revoked %s: %+v, want 401", i, identity, e)
	}
}

// waitAllocates retries Allocates of identity at node i every retryEvery
// until one succeeds, failing after poolBound, and returns how long after
// start it did.
func (p *pool) waitAllocates(i int, identity string, start time.Time) time.Duration {
	t := p.t
	t.Helper()
	tick := time.NewTicker(retryEvery)
	defer tick.Stop()
	for {
		e := p.allocateAs(i, identity)
		if e.Event == "allocated" {
			if e.Error != "" {
				t.Errorf("node %d: Refresh 0 of %s's allocation: %s", i, identity, e.Error)
			}
			return time.Since(start)
		}
		if e.Code != 401 {
			t.Errorf("node %d: an Allocate of %s: %+v, want 401 until the lift reaches the node", i, identity, e)
		}
		if time.Since(start) > poolBound {
			t.Fatalf("node %d: %s still refused %v after the lift", i, identity, poolBound)
		}
		<-tick.C
	}
}

// waitRecords waits until each node's records hold the end records of the
// revoked identity's sessions, want (transport/relay protocol pairs), with
// the reason "revoked", and checks they hold no other identity's.
func (p *pool) waitRecords(want map[int][]string) {
	t := p.t
	t.Helper()
	type record struct {
		Kind          string `json:"kind"`
		Identity      string `json:"identity"`
		Transport     string `json:"transport"`
		RelayProtocol string `json:"relay_protocol"`
		EndReason     string `json:"end_reason"`
	}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	limit := time.Now().Add(eventLimit)
	for i, ks := range want {
		for {
			data, err := os.ReadFile(p.recordsFile(i))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			var got []string
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				var r record
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("node %d: record %q: %v", i, sc.Text(), err)
				}
				if r.Identity != revoked || r.Kind != "end" || r.EndReason != "revoked" {
					t.Fatalf("node %d: record %+v, want only %s's ends for the reason revoked", i, r, revoked)
				}
				got = append(got, r.Transport+"/"+r.RelayProtocol)
			}
			slices.Sort(got)
			if slices.Equal(got, ks) {
				break
			}
			if time.Now().After(limit) {
				t.Fatalf("node %d records %v, want %v", i, got, ks)
			}
			<-tick.C
		}
	}
}

// wantRevocationsFile checks that the shared revocations file holds the
// revocation of identity only, until lifted.
func (p *pool) wantRevocationsFile(identity string) {
	p.t.Helper()
	data, err := os.ReadFile(p.revocationsFile())
	if err != nil {
		p.t.Fatal(err)
	}
	var file struct {
		Version     int                   `json:"version"`
		Revocations []sessions.Revocation `json:"revocations"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		p.t.Fatalf("revocations file: %v\n%s", err, data)
	}
	if file.Version != 1 || len(file.Revocations) != 1 || file.Revocations[0].Identity != identity || !file.Revocations[0].Until.IsZero() {
		p.t.Errorf("revocations file:\n%s\nwant version 1 with %s's revocation until lifted", data, identity)
	}
}

// nodesBut returns the nodes but i.
func nodesBut(i int) []int {
	return slices.DeleteFunc([]int{0, 1, 2}, func(j int) bool { return j == i })
}
