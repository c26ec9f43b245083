package libnice

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/netip"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/edgetest"
)

const (
	// messages is the number of messages each agent sends.
	messages = 50
	// deadline bounds the program's run before it releases the agents
	// (typically 0.5-2.5 s, and the expiry test's 12 s of messages after
	// that); it then takes at most 5 s to close them.
	deadline = 25 * time.Second
	// runTimeout bounds the program as a whole: it is killed after it.
	runTimeout = deadline + 15*time.Second
)

// The outcomes of a run of the program, and its exit status for each.
const (
	outcomeOK      = "ok"       // both agents received every message: 0
	outcomeTimeout = "timeout"  // the deadline passed: 1
	outcomeNoRelay = "no_relay" // an agent gathered no relayed candidate: 3
	outcomeFailed  = "failed"   // both agents' components failed: 4
)

// exitCodes are the exit statuses of the outcomes.
var exitCodes = map[string]int{outcomeOK: 0, outcomeTimeout: 1, outcomeNoRelay: 3, outcomeFailed: 4}

// relayType is how the agents reach the edge: libnice's relay type and the
// edge listener it needs.
type relayType struct {
	name string // the program's argument: "udp", "tcp" or "tls"
	// transport is the client transport of the edge's AllocationKind:
	// "udp", "tcp" or "pseudo-tls" (the handshake of [MS-TURN] §2.1.1,
	// which encrypts nothing).
	transport string
	// relays is the number of relayed candidates libnice makes of one
	// allocation: over TCP one TCP-ACTIVE and one TCP-PASSIVE candidate.
	relays int
}

// relayTypes are TURN over UDP, over TCP and over TCP with the dialect's
// pseudo-TLS handshake, which the edge's TLS listener answers.
var relayTypes = []relayType{
	{name: "udp", transport: "udp", relays: 1},
	{name: "tcp", transport: "tcp", relays: 2},
	{name: "tls", transport: "pseudo-tls", relays: 2},
}

// pairTransports reports whether a selected pair's local and remote
// candidate transports fit the relay type: UDP with UDP, or over TCP (where
// libnice RFC 4571-frames what it relays) an active with a passive one.
func (rt relayType) pairTransports(local, remote string) bool {
	if rt.name == "udp" {
		return local == "udp" && remote == "udp"
	}
	return local == "tcp-act" && remote == "tcp-pass" || local == "tcp-pass" && remote == "tcp-act"
}

// result is the JSON line the program prints.
type result struct {
	Outcome string `json:"outcome"`
	// Closed reports that both agents' nice_agent_close_async completed
	// within 5 s (over TCP libnice waits 2 s for deallocation answers it
	// does not match).
	Closed bool        `json:"closed"`
	Agents [2]agentRun `json:"agents"`
}

// agentRun is what one agent did.
type agentRun struct {
	// State is the component's state when the run ended ("ready").
	State           string `json:"state"`
	RelayCandidates int    `json:"relay_candidates"`
	Selected        *pair  `json:"selected"`
	Sent            int    `json:"sent"`
	SendErrors      int    `json:"send_errors"`
	// Received counts the distinct messages of the other agent.
	Received   int `json:"received"`
	Duplicates int `json:"duplicates"`
	// Stray counts payloads that are not the other agent's messages.
	Stray int `json:"stray"`
}

// pair is a selected candidate pair.
type pair struct {
	Local  candidate `json:"local"`
	Remote candidate `json:"remote"`
}

// candidate is one side of a pair.
type candidate struct {
	Type      string `json:"type"` // "host", "srflx", "prflx" or "relay"
	Transport string `json:"transport"`
	Addr      string `json:"addr"`
}

// addrPort parses c's address, failing the test when it is not one.
func (c candidate) addrPort(t *testing.T) netip.AddrPort {
	t.Helper()
	a, err := netip.ParseAddrPort(c.Addr)
	if err != nil {
		t.Fatalf("candidate address %q: %v", c.Addr, err)
	}
	return a
}

// runAgents runs the program against the edge listener at server with the
// given credential and returns its result; the exit status must match the
// outcome. libnice base64-decodes the username and the password, so they
// are passed encoded.
func runAgents(t *testing.T, rt relayType, server netip.AddrPort, username, password string) result {
	t.Helper()
	b64 := base64.StdEncoding.EncodeToString
	return runAgentsEncoded(t, rt, server, b64([]byte(username)), b64([]byte(password)))
}

// runAgentsEncoded is runAgents with the username and password already
// base64-encoded, as MRAS hands them out.
func runAgentsEncoded(t *testing.T, rt relayType, server netip.AddrPort, username, password string) result {
	t.Helper()
	return runAgentsCount(t, rt, server, username, password, messages)
}

// runAgentsCount is runAgentsEncoded with count messages each way instead
// of messages: the agents send one each way every 2 ms.
func runAgentsCount(t *testing.T, rt relayType, server netip.AddrPort, username, password string, count int) result {
	t.Helper()
	bin := agentsProgram(t)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, rt.name, server.Addr().String(), strconv.Itoa(int(server.Port())),
		username, password, strconv.Itoa(count), strconv.FormatInt(deadline.Milliseconds(), 10))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("agents stderr:\n%s", stderr.Bytes())
		}
	})
	if ctx.Err() != nil {
		t.Fatalf("agents: killed after %v: %v", runTimeout, err)
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("agents: %v", err)
	}
	var res result
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		t.Fatalf("agents output %q: %v", stdout.Bytes(), err)
	}
	t.Logf("agents (%v): %s", time.Since(start).Round(time.Millisecond), bytes.TrimSpace(stdout.Bytes()))
	if want, ok := exitCodes[res.Outcome]; !ok || cmd.ProcessState.ExitCode() != want {
		t.Fatalf("agents: outcome %q with exit status %d", res.Outcome, cmd.ProcessState.ExitCode())
	}
	return res
}

// listener returns the edge listener the relay type connects to.
func (rt relayType) listener(e *edgetest.Edge) netip.AddrPort {
	switch rt.name {
	case "tcp":
		return e.TCP
	case "tls":
		return e.TLS
	default:
		return e.UDP
	}
}
