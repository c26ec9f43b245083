package edge

import (
	"log/slog"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server"
)

// fakeRelay records the relay settings a reload hands over.
type fakeRelay struct {
	policies []*policy.PeerPolicy
	quotas   []server.Quotas
	limits   []policy.SourceLimit
}

func (f *fakeRelay) SetPolicy(p *policy.PeerPolicy) error {
	f.policies = append(f.policies, p)
	return nil
}

func (f *fakeRelay) SetQuotas(q server.Quotas) {
	f.quotas = append(f.quotas, q)
}

func (f *fakeRelay) SetUnauthenticatedLimit(lim policy.SourceLimit) error {
	f.limits = append(f.limits, lim)
	return nil
}

// TestReloadRelaySettings: a reload hands the relay exactly the peer
// policy, quotas and limits that changed, and the next reload compares
// with what it applied; those keys need no restart, the other quotas do.
func TestReloadRelaySettings(t *testing.T) {
	running := development(t)
	relay := &fakeRelay{}
	r := &reloader{started: running, applied: running, keyring: keyringOf(t, running), relay: relay, log: slog.New(slog.DiscardHandler), clock: clock.Real{}}
	reload := func(next *config.Config) []string {
		t.Helper()
		restart, err := r.reload(next)
		if err != nil {
			t.Fatal(err)
		}
		return restart
	}

	same := *running
	reload(&same)
	if len(relay.policies)+len(relay.quotas)+len(relay.limits) != 0 {
		t.Fatalf("an unchanged configuration changed the relay: %+v", relay)
	}

	next := *running
	next.Peers.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	next.Quotas.AllocationsPerUser = 3
	next.Quotas.PortsPerUser = 9
	next.Limits.UnauthenticatedBurst = 7
	if keys := reload(&next); keys != nil {
		t.Fatalf("restart = %q, want none", keys)
	}
	if len(relay.policies) != 1 || relay.policies[0].Allowed(netip.MustParseAddr("127.0.0.2")) ||
		!relay.policies[0].Allowed(netip.MustParseAddr("127.0.0.1")) {
		t.Fatalf("policies %v: want one allowing 127.0.0.1 only", relay.policies)
	}
	want := server.Quotas{AllocationsPerUser: 3, AllocationsTotal: running.Quotas.AllocationsTotal, PortsPerUser: 9}
	if !slices.Equal(relay.quotas, []server.Quotas{want}) {
		t.Fatalf("quotas %v, want [%v]", relay.quotas, want)
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
	if keys := reload(&restart); !slices.Equal(keys, []string{"quotas.channels_per_allocation", "drain.timeout"}) {
		t.Fatalf("restart = %q, want [quotas.channels_per_allocation drain.timeout]", keys)
	}
	if len(relay.quotas) != 1 {
		t.Fatalf("a change of quotas.channels_per_allocation changed the relay's quotas: %v", relay.quotas)
	}
}
