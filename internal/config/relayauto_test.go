package config

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// autoConfig is a one-NIC edge whose relay addresses are auto.
const autoConfig = `realm: example.com
listeners:
  - {protocol: udp, address: 0.0.0.0:3478}
  - {protocol: tcp, address: 10.0.0.5:50010}
relay:
  address: auto
  advertised: auto
  detect_with: [stun.example.net:3478]
auth:
  secrets:
    - {id: a, secret: "0123456789abcdef0123456789abcdef"}
`

func TestWithDetected(t *testing.T) {
	priv, pub := netip.MustParseAddr("10.0.0.6"), netip.MustParseAddr("203.0.113.5")
	c := mustParse(t, "testdata", autoConfig)
	if !c.Relay.Auto.Address || !c.Relay.Auto.Advertised || c.Relay.Auto.AddressV6 {
		t.Fatalf("Auto = %+v, want address and advertised", c.Relay.Auto)
	}
	if s := c.String(); !strings.Contains(s, `"address": "auto"`) || !strings.Contains(s, `"advertised": "auto"`) {
		t.Errorf("JSON lacks the auto addresses:\n%s", s)
	}

	got, pending, err := c.WithDetected(Detected{For: RelayAuto{Address: true, Advertised: true}, Address: priv, Advertised: pub})
	if err != nil {
		t.Fatal(err)
	}
	if got.Relay.Address != priv || got.Relay.Advertised != pub || got.Relay.Auto.Any() || len(pending) != 0 {
		t.Errorf("resolved relay %+v, pending %q", got.Relay, pending)
	}
	if got.RelayAdvertised() != pub {
		t.Errorf("RelayAdvertised = %v, want %v", got.RelayAdvertised(), pub)
	}
	if s := got.String(); strings.Contains(s, "auto") || !strings.Contains(s, `"advertised": "203.0.113.5"`) {
		t.Errorf("resolved JSON:\n%s", s)
	}
	if c.Relay.Address.IsValid() || !c.Relay.Auto.Address {
		t.Errorf("WithDetected changed its receiver: %+v", c.Relay)
	}
	if keys := Changed(got, got); len(keys) != 0 {
		t.Errorf("Changed of a resolved config with itself: %q", keys)
	}
	// Detected at start for the address only: advertised stays auto.
	got, pending, err = c.WithDetected(Detected{For: RelayAuto{Address: true}, Address: priv})
	if err != nil || !slices.Equal(pending, []string{"relay.advertised"}) || !got.Relay.Auto.Advertised {
		t.Errorf("pending %q, err %v, relay %+v; want relay.advertised pending", pending, err, got.Relay)
	}
	// No NAT: advertised stays unset.
	got, _, err = c.WithDetected(Detected{For: RelayAuto{Address: true, Advertised: true}, Address: priv})
	if err != nil || got.Relay.Advertised.IsValid() || got.Relay.Auto.Advertised {
		t.Errorf("without a NAT: relay %+v, err %v", got.Relay, err)
	}
}

func TestWithDetectedRefuses(t *testing.T) {
	c := mustParse(t, "testdata", autoConfig)
	both := RelayAuto{Address: true, Advertised: true}
	tests := []struct {
		name string
		d    Detected
		want []string
	}{
		{"loopback", Detected{For: both, Address: netip.MustParseAddr("127.0.0.1")}, []string{"relay.address", "127.0.0.1"}},
		{"IPv6 as the IPv4 address", Detected{For: both, Address: netip.MustParseAddr("2001:db8::1")}, []string{"relay.address", "IPv4"}},
		{"advertised is the address", Detected{For: both, Address: netip.MustParseAddr("203.0.113.5"), Advertised: netip.MustParseAddr("203.0.113.5")},
			[]string{"relay.advertised", "relay.address itself"}},
		{"link-local advertised", Detected{For: both, Address: netip.MustParseAddr("10.0.0.6"), Advertised: netip.MustParseAddr("169.254.1.1")},
			[]string{"relay.advertised", "169.254.1.1"}},
		{"listener in the relay range", Detected{For: both, Address: netip.MustParseAddr("10.0.0.5")},
			[]string{"listeners[1].address", "50010", "detected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.WithDetected(tt.d)
			wantError(t, err, tt.want...)
		})
	}
}
