package edge

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/clock"
)

// ipNets returns the interface addresses of cidrs, as net.InterfaceAddrs
// gives them.
func ipNets(t *testing.T, cidrs ...string) []net.Addr {
	t.Helper()
	var out []net.Addr
	for _, c := range cidrs {
		ip, n, err := net.ParseCIDR(c)
		if err != nil {
			t.Fatal(err)
		}
		n.IP = ip
		out = append(out, n)
	}
	return out
}

// TestSelfAddrs: the edge's own addresses are those of its configuration
// and every address of the host, sorted, without duplicates or zones.
func TestSelfAddrs(t *testing.T) {
	cfg := loopbackDevelopment(t)
	got, err := selfAddrs(cfg, func() ([]net.Addr, error) {
		return ipNets(t, "127.0.0.1/8", "10.1.2.3/24", "::1/128", "fe80::1/64"), nil
	})
	want := []netip.Addr{
		netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("127.0.0.1"),
		netip.MustParseAddr("::1"), netip.MustParseAddr("fe80::1"),
	}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("selfAddrs = %v, %v; want %v", got, err, want)
	}
}

// TestWatchSelf: an address the host gains while the edge runs becomes
// one of the edge's own (logged), without a restart.
func TestWatchSelf(t *testing.T) {
	cfg := loopbackDevelopment(t)
	var log logged
	e, err := Build(cfg, Deps{Logger: slog.New(&log)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var (
		mu    sync.Mutex
		addrs = ipNets(t, "127.0.0.1/8")
	)
	calls := make(chan struct{}, 1)
	local := func() ([]net.Addr, error) {
		mu.Lock()
		defer mu.Unlock()
		select {
		case calls <- struct{}{}:
		default:
		}
		return slices.Clone(addrs), nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.watchSelf(ctx, cfg, time.Millisecond, local)
	}()
	defer func() { cancel(); <-done }()
	<-calls
	mu.Lock()
	addrs = ipNets(t, "127.0.0.1/8", "198.51.100.7/24")
	mu.Unlock()
	// Two more reads: the first sees the new address, the second comes
	// after the first's round logged it.
	<-calls
	<-calls
	<-calls
	if lines := log.with("the host's addresses changed", "198.51.100.7"); len(lines) != 1 {
		t.Fatalf("logged %q, want one line naming the new address", log.all())
	}
}

// TestRelayAdvertisedWiring: relay.advertised and relay.advertised_v6 reach
// the relay's options, and count among the edge's own addresses.
func TestRelayAdvertisedWiring(t *testing.T) {
	cfg := loopbackDevelopment(t)
	cfg.Relay.Advertised = netip.MustParseAddr("203.0.113.10")
	cfg.Relay.AdvertisedV6 = netip.MustParseAddr("2001:db8::10")
	// No revocation store: only an authentication, which this test makes
	// none of, consults it.
	opts, err := relayOptions(cfg, keyringOf(t, cfg), nil, slog.New(slog.DiscardHandler), clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	if opts.RelayAdvertised != cfg.Relay.Advertised || opts.RelayAdvertisedV6 != cfg.Relay.AdvertisedV6 {
		t.Errorf("options advertise %v and %v, want %v and %v", opts.RelayAdvertised, opts.RelayAdvertisedV6, cfg.Relay.Advertised, cfg.Relay.AdvertisedV6)
	}
	for _, a := range []netip.Addr{cfg.Relay.Advertised, cfg.Relay.AdvertisedV6} {
		if !slices.Contains(opts.Self, a) {
			t.Errorf("Self %v lacks the advertised address %v", opts.Self, a)
		}
	}
}
