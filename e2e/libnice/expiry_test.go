package libnice

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/edgetest"
	"github.com/avedge/avedge/internal/server/stats"
)

const (
	// credentialTTL is the lifetime of the expiry test's credentials: the
	// username holds whole seconds, so they expire 5 to 6 s after issue,
	// long enough for both agents to allocate on a loaded machine (the
	// whole suite runs packages in parallel; 2 s was seen too short).
	credentialTTL = 6 * time.Second
	// allocationLifetime is the expiry test's allocation lifetime. libnice
	// refreshes an allocation of a lifetime up to 120 s every half of it,
	// on a timer of whole seconds that may fire up to a second late: here
	// 2 to 3 s after the Allocate or the previous refresh.
	allocationLifetime = 4 * time.Second
	// lifetimeMargin is how long past a lifetime the edge has surely
	// ended an allocation that was not refreshed.
	lifetimeMargin = 500 * time.Millisecond
	// expiryMessages is the number of messages each agent sends in the
	// expiry test, one every 2 ms or more: at least 12 s of media, from
	// when both agents are READY (before the credential expires) past the
	// credential's expiry plus a whole allocation lifetime (at most 10.5 s
	// after the issue).
	expiryMessages = 6000
	// minAfterLifetime is the fewest packets the agents must relay to each
	// other once the credential's expiry plus a lifetime has passed: a
	// second of messages is 1000.
	minAfterLifetime = 200
)

// TestPastExpiry: over TURN over UDP, TCP and pseudo-TLS, two libnice
// agents allocate with a credential that expires 5 to 6 s later and
// exchange messages for at least 12 s, past the credential's expiry and
// allocationLifetime more. Both allocations are live then, none has
// expired, the edge dropped nothing the agents sent for the credential's
// expiry, and messages keep crossing the allocations until every message
// has arrived. Over UDP libnice refreshes (an [MS-TURN] Allocate on the
// allocation's 5-tuple) every half lifetime, and the edge takes each
// agent's refreshes past the expiry (counted as ok_past_expiry): without
// them the allocations would have ended a lifetime after the expiry. Over
// pseudo-TLS libnice never refreshes, and over TCP the edge tells it the
// allocation lives until its maximum age, so it does not refresh either
// (libnice 0.1.21 hands the answer to its refresh over TCP to the
// application as media, which breaks its stream): the edge keeps the
// allocations alive past their lifetime as long as their connections.
// Two new agents with the same, expired, credential then gather no relayed
// candidate: the edge refuses their Allocates with the dialect's 436,
// counted as expired_credential, and allocates nothing more.
func TestPastExpiry(t *testing.T) {
	t.Parallel()
	for _, rt := range relayTypes {
		t.Run(rt.name, func(t *testing.T) {
			t.Parallel()
			e, ports := startEdgeWith(t, edgetest.Options{CredentialTTL: credentialTTL, AllocationLifetime: allocationLifetime})
			cred := e.Credentials(t, "alice")
			expiry, _, err := auth.ParseUsername(cred.Username)
			if err != nil {
				t.Fatalf("username %q: %v", cred.Username, err)
			}
			// The counters once the expiry plus a lifetime has passed, on
			// the edge's real clock, which nothing signals.
			snapshot := make(chan stats.Stats, 1)
			timer := time.AfterFunc(time.Until(expiry.Add(allocationLifetime+lifetimeMargin)), func() { snapshot <- e.Stats() })
			defer timer.Stop()
			b64 := base64.StdEncoding.EncodeToString
			res := runAgentsCount(t, rt, rt.listener(e), b64([]byte(cred.Username)), b64([]byte(cred.Password)), expiryMessages)
			if res.Outcome != outcomeOK {
				t.Fatalf("outcome %q, want %q", res.Outcome, outcomeOK)
			}
			for i, a := range res.Agents {
				if a.Received != expiryMessages || a.SendErrors != 0 {
					t.Errorf("agent %d: received %d messages (%d send errors), want %d", i, a.Received, a.SendErrors, expiryMessages)
				}
				checkRelayPair(t, i, a.Selected, rt, e.RelayAddr().String(), ports)
			}
			var at stats.Stats
			select {
			case at = <-snapshot:
			default:
				t.Fatalf("the agents finished before the credential's expiry plus a lifetime (%v)", expiry.Add(allocationLifetime))
			}
			if at.Allocations != 2 || at.Ended(stats.EndExpired) != 0 {
				t.Errorf("a lifetime past the credential's expiry: %d live allocations, %d expired; want 2 and 0",
					at.Allocations, at.Ended(stats.EndExpired))
			}
			end := e.WaitStats(t, func(st stats.Stats) bool {
				return st.ToPeerPackets >= 2*expiryMessages && st.ToClientPackets >= 2*expiryMessages
			})
			if n := end.ToPeerPackets - at.ToPeerPackets; n < minAfterLifetime {
				t.Errorf("%d packets relayed a lifetime past the credential's expiry, want at least %d", n, minAfterLifetime)
			}
			past := at.Authenticated(stats.AuthPastExpiry)
			t.Logf("a lifetime past the expiry: %d requests past the expiry, %d ok; %d of %d packets to peers relayed after",
				past, at.Authenticated(stats.AuthOK), end.ToPeerPackets-at.ToPeerPackets, end.ToPeerPackets)
			if rt.transport == "udp" && past < 2 {
				t.Errorf("%d refreshes past the credential's expiry, want at least one per agent", past)
			}
			if rt.transport != "udp" && past != 0 {
				t.Errorf("%d requests past the credential's expiry over %s, where libnice does not refresh", past, rt.transport)
			}
			if end.Ended(stats.EndExpired) != 0 {
				t.Errorf("%d allocations expired; want none", end.Ended(stats.EndExpired))
			}

			// New Allocates with the expired credential.
			res = runAgents(t, rt, rt.listener(e), cred.Username, cred.Password)
			if res.Outcome != outcomeNoRelay {
				t.Errorf("with the expired credential: outcome %q, want %q", res.Outcome, outcomeNoRelay)
			}
			st := e.WaitStats(t, func(st stats.Stats) bool { return st.Authenticated(stats.AuthExpiredCredential) >= 2 })
			if mine, others := created(st, rt.transport); mine != 2 || others != 0 {
				t.Errorf("allocations created: %d over %s and %d over other transports, want the first run's 2 and 0",
					mine, rt.transport, others)
			}
			t.Logf("with the expired credential: %d Allocates refused", st.Authenticated(stats.AuthExpiredCredential))
		})
	}
}
