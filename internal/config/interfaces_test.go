package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestRelayAdvertised(t *testing.T) {
	tests := []struct {
		file string
		want netip.Addr
	}{
		{"interfaces.yaml", netip.MustParseAddr("203.0.113.10")},
		{"interfaces_external_only.yaml", netip.Addr{}},
		{"minimal.yaml", netip.Addr{}},
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
