package policy

import (
	"net/netip"
	"testing"
)

func TestRanges(t *testing.T) {
	r := NewRanges([]netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("fd00:1::/32")})
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"10.1.2.3", true},
		{"::ffff:10.1.2.3", true},
		{"10.2.0.1", false},
		{"fd00:1::5", true},
		{"fd00:2::5", false},
		{"2002:a01:203::1", false}, // 6to4 of 10.1.2.3: not a written range
	} {
		if got := r.Contains(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("Contains(%s) = %v, want %v", tc.ip, got, tc.want)
		}
	}
	var none *Ranges
	if none.Contains(netip.MustParseAddr("10.1.2.3")) {
		t.Error("a nil Ranges contains an address")
	}
}
