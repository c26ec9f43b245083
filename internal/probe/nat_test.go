package probe

import (
	"net/netip"
	"strings"
	"testing"
)

func TestNATCheck(t *testing.T) {
	ap := netip.MustParseAddrPort
	edge := ap("198.51.100.7:3478")
	for _, tc := range []struct {
		name   string
		obs    []observation
		status Status
		text   string
	}{
		{"nothing seen", nil, Skip, ""},
		{"public relay", []observation{{server: edge, from: edge, local: ap("192.168.1.2:5000"), mapped: ap("203.0.113.9:6000"),
			relayed: ap("198.51.100.7:50001")}}, Pass, "NAT on your side"},
		{"relay on another public address", []observation{{server: edge, from: edge, relayed: ap("198.51.100.8:50001")}}, Pass,
			"relayed address 198.51.100.8 for edge 198.51.100.7"},
		{"private relay behind a public edge", []observation{{server: edge, from: edge, relayed: ap("10.0.0.5:50001")}}, Warn,
			"set the external/advertised address (1:1 NAT)"},
		{"shared-space relay", []observation{{server: edge, relayed: ap("100.64.1.1:50001")}}, Warn, "private relay address"},
		{"private edge, private relay", []observation{{server: ap("10.0.0.5:3478"), relayed: ap("10.0.0.5:50001")}}, Pass, ""},
		{"loopback relay", []observation{{server: edge, relayed: ap("127.0.0.1:50001")}}, Warn, "no peer can reach"},
		{"answer from elsewhere", []observation{{server: edge, from: ap("198.51.100.9:3478"), mapped: ap("203.0.113.9:6000")}}, Warn,
			"answers from another address"},
	} {
		r := natCheck(tc.obs)
		if r.Status != tc.status || !strings.Contains(r.Detail+" "+r.Remedy, tc.text) {
			t.Errorf("%s: %v %q (%q), want %v with %q", tc.name, r.Status, r.Detail, r.Remedy, tc.status, tc.text)
		}
	}
}
