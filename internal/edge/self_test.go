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
// one of the edge's own: the relay is handed the new list (logged), once,
// and nothing while the addresses stay the same.
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
	local := func() ([]net.Addr, error) {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(addrs), nil
	}
	start, err := selfAddrs(cfg, local)
	if err != nil {
		t.Fatal(err)
	}
	sets := make(chan []netip.Addr, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.watchSelf(ctx, cfg, start, time.Millisecond, local, func(a []netip.Addr) { sets <- a })
	}()
	defer func() { cancel(); <-done }()
	mu.Lock()
	addrs = ipNets(t, "127.0.0.1/8", "198.51.100.7/24")
	mu.Unlock()
	select {
	case got := <-sets:
		if !slices.Contains(got, netip.MustParseAddr("198.51.100.7")) || !slices.Contains(got, netip.MustParseAddr("127.0.0.1")) {
			t.Fatalf("relay handed %v, want the new address beside the old", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the relay was not handed the new addresses")
	}
	if lines := log.with("the host's addresses changed", "198.51.100.7"); len(lines) != 1 {
		t.Errorf("logged %q, want one line naming the new address", log.all())
	}
	select {
	case got := <-sets:
		t.Fatalf("handed %v again though nothing changed", got)
	case <-time.After(50 * time.Millisecond):
	}
}
