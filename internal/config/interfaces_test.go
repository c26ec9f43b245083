package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// TestRelayAdvertised: the advertised addresses come from relay.advertised
// and relay.advertised_v6, or interfaces.external.advertised for IPv4.
func TestRelayAdvertised(t *testing.T) {
	tests := []struct {
		file        string
		want, want6 netip.Addr
	}{
		{"interfaces.yaml", netip.MustParseAddr("203.0.113.10"), netip.Addr{}},
		{"interfaces_external_only.yaml", netip.Addr{}, netip.Addr{}},
		{"minimal.yaml", netip.Addr{}, netip.Addr{}},
		{"relay_advertised.yaml", netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("2001:db8::10")},
		{"relay_advertised_private.yaml", netip.MustParseAddr("100.64.7.8"), netip.Addr{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			dir := filepath.Join("testdata", "valid")
			data, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(tt.file, dir, data)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.RelayAdvertised(); got != tt.want {
				t.Errorf("RelayAdvertised() = %v, want %v", got, tt.want)
			}
			if got := c.RelayAdvertisedV6(); got != tt.want6 {
				t.Errorf("RelayAdvertisedV6() = %v, want %v", got, tt.want6)
			}
		})
	}
}

func TestInterfaceHas(t *testing.T) {
	i := Interface{Address: netip.MustParseAddr("10.0.0.5"), AddressV6: netip.MustParseAddr("fd00::5"), Advertised: netip.MustParseAddr("203.0.113.10")}
	tests := []struct {
		addr string
		want bool
	}{
		{"10.0.0.5", true},
		{"::ffff:10.0.0.5", true},
		{"fd00::5", true},
		{"203.0.113.10", false},
		{"0.0.0.0", false},
		{"10.0.0.6", false},
	}
	for _, tt := range tests {
		if got := i.Has(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Has(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if got := (Interface{Address: netip.MustParseAddr("10.0.0.5")}).Has(netip.Addr{}); got {
		t.Error("Has(zero Addr) = true on an interface without address_v6")
	}
}
