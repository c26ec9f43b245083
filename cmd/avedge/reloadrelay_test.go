package main

import (
	"log/slog"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/policy"
)

// fakeRelay records the relay settings a reload hands over.
type fakeRelay struct {
	policies []*policy.PeerPolicy
	quotas   [][2]int
	limits   []policy.SourceLimit
}

func (f *fakeRelay) SetPolicy(p *policy.PeerPolicy) error {
	f.policies = append(f.policies, p)
	return nil
}

func (f *fakeRelay) SetQuotas(perUser, total int) {
	f.quotas = append(f.quotas, [2]int{perUser, total})
}

func (f *fakeRelay) SetUnauthenticatedLimit(lim policy.SourceLimit) error {
	f.limits = append(f.limits, lim)
	return nil
}

// TestReloadRelaySettings: a reload hands the relay exactly the peer
// policy, quotas and limits that changed, and the next reload compares
// with what it applied; those keys need no restart, the other quotas do.
func TestReloadRelaySettings(t *testing.T) {
	running, err := config.Development(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	relay := &fakeRelay{}
	r := &reloader{running: running, relay: relay, log: slog.New(slog.DiscardHandler)}
	reload := func(next *config.Config) {
		t.Helper()
		p, err := r.prepare(next, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := r.apply(p, next); err != nil {
			t.Fatal(err)
		}
	}

	same := *running
	reload(&same)
	if len(relay.policies)+len(relay.quotas)+len(relay.limits) != 0 {
		t.Fatalf("an unchanged configuration changed the relay: %+v", relay)
	}

	next := *running
	next.Peers.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	next.Quotas.AllocationsPerUser = 3
	next.Limits.UnauthenticatedBurst = 7
	if keys := restartNeeded(running, &next); keys != nil {
		t.Fatalf("restartNeeded = %q, want none", keys)
	}
	reload(&next)
	if len(relay.policies) != 1 || relay.policies[0].Allowed(netip.MustParseAddr("127.0.0.2")) ||
		!relay.policies[0].Allowed(netip.MustParseAddr("127.0.0.1")) {
		t.Fatalf("policies %v: want one allowing 127.0.0.1 only", relay.policies)
	}
	if want := [][2]int{{3, running.Quotas.AllocationsTotal}}; !slices.Equal(relay.quotas, want) {
		t.Fatalf("quotas %v, want %v", relay.quotas, want)
	}
	wantLimit := policy.SourceLimit{Rate: running.Limits.UnauthenticatedRate, Burst: 7}
	if !slices.Equal(relay.limits, []policy.SourceLimit{wantLimit}) {
		t.Fatalf("limits %v, want [%v]", relay.limits, wantLimit)
	}

	again := next
	reload(&again) // compared with what was applied: nothing to do
	if len(relay.policies) != 1 || len(relay.quotas) != 1 || len(relay.limits) != 1 {
		t.Fatalf("a second identical reload changed the relay again: %+v", relay)
	}

	restart := next
	restart.Quotas.ChannelsPerAllocation = 8
	restart.Drain.Timeout = time.Minute
	if keys := restartNeeded(r.running, &restart); !slices.Equal(keys, []string{"drain", "quotas"}) {
		t.Fatalf("restartNeeded = %q, want [drain quotas]", keys)
	}
}
