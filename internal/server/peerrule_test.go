package server

import (
	"net/netip"
	"testing"
)

// TestSelfRefusedEmbedded: an IPv6 peer address that carries one of the
// edge's IPv4 addresses (NAT64, 6to4, IPv4-compatible) is the edge's own
// too, off the relay ports; other addresses and relay ports are not.
func TestSelfRefusedEmbedded(t *testing.T) {
	r := newPeerRule([]netip.Addr{netip.MustParseAddr("203.0.113.10")}, 50000, 59999, nil)
	for _, tc := range []struct {
		peer string
		want bool
	}{
		{"203.0.113.10:8080", true},
		{"[64:ff9b::203.0.113.10]:8080", true},
		{"[2002:cb00:710a::1]:8080", true}, // 6to4 of 203.0.113.10
		{"[::203.0.113.10]:8080", true},
		{"[64:ff9b::203.0.113.10]:50000", false}, // a relay port
		{"[64:ff9b::203.0.113.11]:8080", false},
		{"198.51.100.1:8080", false},
	} {
		if got := r.selfRefused(netip.MustParseAddrPort(tc.peer)); got != tc.want {
			t.Errorf("selfRefused(%s) = %v, want %v", tc.peer, got, tc.want)
		}
	}
	peer := netip.MustParseAddrPort("[64:ff9b::198.51.100.1]:8080")
	if n := testing.AllocsPerRun(100, func() { r.selfRefused(peer) }); n != 0 {
		t.Errorf("selfRefused allocates %v times, want 0", n)
	}
}
