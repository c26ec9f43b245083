package browser

import (
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/edgetest"
	"github.com/avedge/avedge/internal/server/stats"
)

const (
	// callCredentialTTL is the lifetime of the call's credential, shorter
	// than the call.
	callCredentialTTL = 40 * time.Second
	// callAllocationLifetime is the edge's allocation lifetime (default
	// and maximum): Chromium refreshes at half of it, so at least once
	// after the credential expired.
	callAllocationLifetime = 60 * time.Second
	// callLength is how long the call goes on (the page's seconds=).
	callLength = 150 * time.Second
	// callWindow is the longest a lasting call may go without an echo: the
	// page pings every second.
	callWindow = 10 * time.Second
	// callFailureBound bounds how long after the first refused Refresh the
	// strict call may take to fail. Chromium 156 does not retry a Refresh
	// answered 401: it prunes the TURN port's connections at once, and the
	// connection state goes "failed" within milliseconds
	// (iceConnectionState goes "disconnected": Blink reports ICE's
	// "failed" so).
	callFailureBound = 10 * time.Second
	// callFailureWait is how long the page goes on pinging once the call
	// failed (FAILURE_WAIT_MS in page.js), and callMinPingsAfterFailure
	// the least pings it sends then: one a second.
	callFailureWait          = 10 * time.Second
	callMinPingsAfterFailure = 5
	// callDriverTimeout bounds a call's run of driver.mjs: the call, the
	// page's waits around it and Chromium's start and exit.
	callDriverTimeout = callLength + callFailureWait + driverTimeout
)

// TestCallOutlivesCredential keeps a relay-only data channel call going for
// 150 s on a 40 s credential through an edge whose allocations live 60 s,
// so that Chromium refreshes its allocations after the credential expired.
// Over turn: UDP and turn: TCP the edge lets the refreshes of the
// allocation the credential made pass (ok_past_expiry) and the call goes on
// to the end; with auth.strict_expiry the first refresh after the expiry
// gets 401 and the call fails.
func TestCallOutlivesCredential(t *testing.T) {
	requireBrowser(t)
	cases := []struct {
		name, transport string
		block           edgeBlock
		strict          bool
	}{
		{"udp", "udp", blockCallLasts, false},
		{"tcp", "tcp", blockCallLasts + 1, false},
		{"strict", "udp", blockCallStrict, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			lo, hi := c.block.ports()
			e := edgetest.Start(t, edgetest.Options{
				RelayPortMin:       lo,
				RelayPorts:         relayPortBlock,
				CredentialTTL:      callCredentialTTL,
				AllocationLifetime: callAllocationLifetime,
				StrictExpiry:       c.strict,
			})
			app := startApp(t, e)
			expiry := app.credentialExpiry(t, c.transport)
			before := e.Stats()
			page := pageURL(app, c.transport, url.Values{"seconds": {strconv.Itoa(int(callLength / time.Second))}})
			res := runDriverFor(t, callDriverTimeout, page, "call")
			after := e.Stats()
			call := res.Call
			if call == nil || call.Start == 0 {
				t.Fatalf("the call never started: %s (states %q, ICE errors %+v)", res.Error, res.ICEStates, res.ICEErrors)
			}
			hangup := app.hungUp(t)
			logCall(t, call, expiry, before, hangup)
			if c.strict {
				checkCallFailed(t, res, expiry, before, hangup)
				return
			}
			if !res.OK {
				t.Fatalf("call failed: %s (ended by %q, states %q, ICE errors %+v)", res.Error, call.EndedBy, res.ICEStates, res.ICEErrors)
			}
			relay := e.RelayAddr().String()
			checkRelayPair(t, "pc1 selected pair", res.Selected, relay, lo, hi, c.transport)
			checkRelayPair(t, "pc2 selected pair", res.SelectedPC2, relay, lo, hi, c.transport)
			checkCallLasted(t, call, expiry, before, hangup)
			checkRelayed(t, before, after, res)
		})
	}
}

// checkCallLasted checks that a call with a credential expiring at expiry
// went on to its end with an echo at least every callWindow, well past
// the expiry and a refresh, and that the edge let requests signed with the
// expired credential pass and ended no allocation until the page hung up
// (before and hangup are the edge's counters before the call and then).
func checkCallLasted(t *testing.T, call *callResult, expiry time.Time, before, hangup stats.Stats) {
	t.Helper()
	start, end := time.UnixMilli(call.Start), time.UnixMilli(call.End)
	if call.EndedBy != "time up" || end.Sub(start) < callLength {
		t.Errorf("call ended by %q after %v: want it to last %v", call.EndedBy, end.Sub(start), callLength)
	}
	if len(call.Echoes) != call.Sent {
		t.Errorf("%d pings, %d echoes: want every ping echoed", call.Sent, len(call.Echoes))
	}
	// The credential expired during the call, and the call went on for
	// longer than an allocation lives after that: the allocations were
	// refreshed after the expiry.
	pastRefresh := expiry.Add(callAllocationLifetime)
	if !start.Before(expiry) || !end.After(pastRefresh) {
		t.Errorf("call from %v to %v, credential expiry %v: want the call to begin before the expiry and last past %v",
			start, end, expiry, pastRefresh)
	}
	if gap, at := longestGap(call, start, end); gap >= callWindow {
		t.Errorf("no echo for %v from %v (%v after the credential expired): want one at least every %v",
			gap, at.Format(time.TimeOnly), at.Sub(expiry), callWindow)
	}
	// Pings go once a second: count what came back once the allocations
	// had to have been refreshed with the expired credential.
	var late int
	for _, ms := range call.Echoes {
		if time.UnixMilli(ms).After(pastRefresh) {
			late++
		}
	}
	if want := int(end.Sub(pastRefresh)/time.Second) * 8 / 10; late < want {
		t.Errorf("%d echoes after %v: want at least %d (one a second for %v, 80%%)", late, pastRefresh, want, end.Sub(pastRefresh))
	}
	if n := hangup.Authenticated(stats.AuthPastExpiry) - before.Authenticated(stats.AuthPastExpiry); n == 0 {
		t.Error("edge: no request authenticated past its credential's expiry (ok_past_expiry): want the refreshes after the expiry to pass as such")
	}
	if n := hangup.Authenticated(stats.AuthExpiredCredential) - before.Authenticated(stats.AuthExpiredCredential); n != 0 {
		t.Errorf("edge: %d requests refused for an expired credential: want none", n)
	}
	// Chromium may delete an allocation it does not use (Refresh 0, when
	// it prunes an unselected relay candidate); the edge must end none.
	for r := range stats.NumEndReasons {
		if r == stats.EndRefreshZero {
			continue
		}
		if n := hangup.AllocationsEnded[r] - before.AllocationsEnded[r]; n != 0 {
			t.Errorf("edge: %d allocations ended during the call for %q: want none ended by the edge", n, r)
		}
	}
	if hangup.Allocations < 2 {
		t.Errorf("edge: %d live allocations when the page hung up: want one per connection at least", hangup.Allocations)
	}
}

// checkCallFailed checks that a call with a credential expiring at expiry,
// on an edge with strict expiry, worked until it failed after the expiry
// (by the first refresh after the expiry and callFailureBound), and that
// nothing came back after the failure though the page kept pinging; and
// that the edge refused a request for the expired credential and let none
// pass.
func checkCallFailed(t *testing.T, res pageResult, expiry time.Time, before, hangup stats.Stats) {
	t.Helper()
	call := res.Call
	start, failed := time.UnixMilli(call.Start), time.UnixMilli(call.FailedAt)
	if res.OK || call.FailedAt == 0 {
		t.Fatalf("call lasted %v (ended by %q) with strict expiry: want it to fail",
			time.UnixMilli(call.End).Sub(start), call.EndedBy)
	}
	if call.EndedBy != "connection failed" && call.EndedBy != "channel closed" {
		t.Errorf("call ended by %q (%s): want a failed connection or a closed channel", call.EndedBy, res.Error)
	}
	// Chromium refreshes every half lifetime: the first refresh after the
	// expiry comes at most that long after it.
	latest := expiry.Add(callAllocationLifetime/2 + callFailureBound)
	if !failed.After(expiry) || failed.After(latest) {
		t.Errorf("call failed %v after the credential expired: want it to fail after the expiry, within %v",
			failed.Sub(expiry), latest.Sub(expiry))
	}
	if gap, at := longestGap(call, start, failed); gap >= callWindow {
		t.Errorf("no echo for %v from %v (%v after the credential expired) before the call failed: want one at least every %v until it failed",
			gap, at.Format(time.TimeOnly), at.Sub(expiry), callWindow)
	}
	if n := len(call.Echoes); n > 0 && time.UnixMilli(call.Echoes[n-1]).After(failed) {
		t.Errorf("echo %v after the call failed: want none", time.UnixMilli(call.Echoes[n-1]).Sub(failed))
	}
	if after := call.Sent - call.SentAtFailure; after < callMinPingsAfterFailure || len(call.Echoes) > call.SentAtFailure {
		t.Errorf("%d pings sent after the failure, %d echoes of %d pings sent before: want at least %d sent and none echoed",
			after, len(call.Echoes), call.SentAtFailure, callMinPingsAfterFailure)
	}
	if n := hangup.Authenticated(stats.AuthExpiredCredential) - before.Authenticated(stats.AuthExpiredCredential); n == 0 {
		t.Error("edge: no request refused for an expired credential (expired_credential): want the refresh after the expiry refused")
	}
	if n := hangup.Authenticated(stats.AuthPastExpiry) - before.Authenticated(stats.AuthPastExpiry); n != 0 {
		t.Errorf("edge: %d requests authenticated past their credential's expiry: want none with strict expiry", n)
	}
}

// longestGap is the longest time between start, the call's echoes until
// end and end, and when it began.
func longestGap(call *callResult, start, end time.Time) (gap time.Duration, at time.Time) {
	prev := start
	next := func(t time.Time) {
		if d := t.Sub(prev); d > gap {
			gap, at = d, prev
		}
		prev = t
	}
	for _, ms := range call.Echoes {
		if e := time.UnixMilli(ms); e.Before(end) {
			next(e)
		}
	}
	next(end)
	return gap, at
}

// logCall logs the call's course against the credential's expiry, and the
// edge's authentication results and allocations from before to hangup.
func logCall(t *testing.T, call *callResult, expiry time.Time, before, hangup stats.Stats) {
	t.Helper()
	start := time.UnixMilli(call.Start)
	last := "none"
	if n := len(call.Echoes); n > 0 {
		last = time.UnixMilli(call.Echoes[n-1]).Sub(expiry).String()
	}
	auth := make(map[string]uint64)
	for r := range stats.NumAuthResults {
		if n := hangup.Authenticated(r) - before.Authenticated(r); n != 0 {
			auth[r.String()] = n
		}
	}
	failed := "did not fail"
	if call.FailedAt != 0 {
		failed = fmt.Sprintf("failed %v after it with %d pings sent", time.UnixMilli(call.FailedAt).Sub(expiry), call.SentAtFailure)
	}
	t.Logf("call: began %v before the credential expired, %s, ended by %q %v after it; %d pings, %d echoes, the last %s after the expiry; edge: auth results %v, %d allocations live, %d ended",
		expiry.Sub(start), failed, call.EndedBy, time.UnixMilli(call.End).Sub(expiry), call.Sent, len(call.Echoes), last,
		auth, hangup.Allocations, sum(hangup.AllocationsEnded[:])-sum(before.AllocationsEnded[:]))
}

// sum is the sum of counts.
func sum(counts []uint64) uint64 {
	var n uint64
	for _, c := range counts {
		n += c
	}
	return n
}
