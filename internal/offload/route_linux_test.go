package offload

import (
	"net/netip"
	"testing"
	"time"
)

// TestRouteCache: an answer is reused until its TTL, and the cache never
// holds more than its bound, keeping the newest answer.
func TestRouteCache(t *testing.T) {
	c := routeCache{ttl: 10 * time.Second, max: 4}
	t0 := time.Now()
	a := netip.MustParseAddr("192.0.2.1")
	if _, ok := c.get(a, t0); ok {
		t.Fatal("an empty cache answered")
	}
	c.put(a, route{ifindex: 7, at: t0})
	if r, ok := c.get(a, t0.Add(10*time.Second-time.Nanosecond)); !ok || r.ifindex != 7 {
		t.Errorf("before the TTL: %d, %v; want 7, true", r.ifindex, ok)
	}
	if _, ok := c.get(a, t0.Add(10*time.Second)); ok {
		t.Error("answered at the TTL")
	}
	c.put(a, route{ifindex: 8, at: t0.Add(10 * time.Second)})
	if r, ok := c.get(a, t0.Add(10*time.Second)); !ok || r.ifindex != 8 {
		t.Errorf("looked up again: %d, %v; want 8, true", r.ifindex, ok)
	}
	for i := range 10 {
		b := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
		c.put(b, route{ifindex: uint32(i), at: t0})
		if len(c.m) > 4 {
			t.Fatalf("%d entries, bound 4", len(c.m))
		}
		if got, ok := c.get(b, t0); !ok || got.ifindex != uint32(i) {
			t.Fatalf("the newest answer for %v: %d, %v", b, got.ifindex, ok)
		}
	}
}

// TestRouterLookup asks for the route to 127.0.0.1 (lo, in this
// namespace as in any) twice, the second time as an IPv4-mapped address:
// the second answer is the cached one; the source the kernel prefers
// towards 127.0.0.2 is 127.0.0.1.
func TestRouterLookup(t *testing.T) {
	r, err := newRouter()
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	lo := netip.MustParseAddr("127.0.0.1")
	first, err := r.ifindex(lo)
	if err != nil || first == 0 {
		t.Fatalf("ifindex(127.0.0.1) = %d, %v", first, err)
	}
	if _, ok := r.cache.get(lo, time.Now()); !ok {
		t.Error("the answer was not cached")
	}
	if second, err := r.ifindex(netip.MustParseAddr("::ffff:127.0.0.1")); err != nil || second != first {
		t.Errorf("ifindex(::ffff:127.0.0.1) = %d, %v; want %d", second, err, first)
	}
	if src, err := r.source(netip.MustParseAddr("127.0.0.2")); err != nil || src != lo {
		t.Errorf("source(127.0.0.2) = %v, %v; want %v", src, err, lo)
	}
}
