package main

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/avedge/avedge/internal/config"
)

// TestTurnURIsAdvertised: behind a 1:1 NAT, creds issue names the relay
// address by its advertised one (IPv4 and IPv6), wildcard listeners
// included; another listener address and advertise_host are kept.
func TestTurnURIsAdvertised(t *testing.T) {
	cfg := &config.Config{
		Relay: config.Relay{
			Address: netip.MustParseAddr("10.0.0.5"), AddressV6: netip.MustParseAddr("2001:db8::5"),
			Advertised: netip.MustParseAddr("203.0.113.10"), AdvertisedV6: netip.MustParseAddr("2001:db8:1::10"),
		},
		Listeners: []config.Listener{
			{Protocol: "udp", Address: netip.MustParseAddrPort("0.0.0.0:3478")},
			{Protocol: "udp", Address: netip.MustParseAddrPort("[2001:db8::5]:3478")},
			{Protocol: "udp", Address: netip.MustParseAddrPort("192.0.2.7:3479")},
		},
	}
	want := []string{
		"turn:203.0.113.10:3478?transport=udp",
		"turn:[2001:db8:1::10]:3478?transport=udp",
		"turn:192.0.2.7:3479?transport=udp",
	}
	if got := turnURIs(cfg); !slices.Equal(got, want) {
		t.Errorf("turnURIs = %q, want %q", got, want)
	}
	cfg.AdvertiseHost = "turn.example.com"
	if got := turnURIs(cfg); got[0] != "turn:turn.example.com:3478?transport=udp" {
		t.Errorf("with advertise_host: %q", got)
	}
}

// TestTurnURIsIPv6Only: on an IPv6-only edge, creds issue names a [::]
// listener by the IPv6 relay address (advertised, behind a translator) and
// leaves out a 0.0.0.0 one, which no client reaches.
func TestTurnURIsIPv6Only(t *testing.T) {
	cfg := &config.Config{
		Relay: config.Relay{AddressV6: netip.MustParseAddr("2001:db8::5")},
		Listeners: []config.Listener{
			{Protocol: "udp", Address: netip.MustParseAddrPort("0.0.0.0:3478")},
			{Protocol: "udp", Address: netip.MustParseAddrPort("[::]:3478")},
			{Protocol: "tcp", Address: netip.MustParseAddrPort("0.0.0.0:443")},
		},
	}
	want := []string{"turn:[2001:db8::5]:3478?transport=udp"}
	if got := turnURIs(cfg); !slices.Equal(got, want) {
		t.Errorf("turnURIs = %q, want %q", got, want)
	}
	cfg.Relay.AdvertisedV6 = netip.MustParseAddr("2001:db8:1::5")
	want = []string{"turn:[2001:db8:1::5]:3478?transport=udp"}
	if got := turnURIs(cfg); !slices.Equal(got, want) {
		t.Errorf("with advertised_v6: turnURIs = %q, want %q", got, want)
	}
}
