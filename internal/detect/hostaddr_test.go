package detect

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

func TestHostAddress(t *testing.T) {
	tests := []struct {
		name  string
		addrs []netip.Addr
		v6    bool
		want  string
		err   []string
	}{
		{"a NATed VM", addrs("127.0.0.1", "::1", "10.0.0.5", "fe80::1", "169.254.3.4"), false, "10.0.0.5", nil},
		{"mapped form", addrs("::ffff:10.0.0.5"), false, "10.0.0.5", nil},
		{"public", addrs("127.0.0.1", "203.0.113.9", "2001:db8::9"), false, "203.0.113.9", nil},
		{"IPv6", addrs("127.0.0.1", "10.0.0.5", "fe80::1", "2001:db8::9"), true, "2001:db8::9", nil},
		{"none", addrs("127.0.0.1", "169.254.3.4"), false, "", []string{"no IPv4 address", "127.0.0.1, 169.254.3.4", "set relay.address"}},
		{"several", addrs("10.0.0.5", "172.17.0.1"), false, "", []string{"several IPv4 addresses", "10.0.0.5, 172.17.0.1", "set relay.address"}},
		{"no IPv6", addrs("10.0.0.5", "fe80::1"), true, "", []string{"relay.address_v6", "no IPv6 address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := HostAddress(tt.addrs, tt.v6)
			if tt.err == nil {
				if err != nil || got.String() != tt.want {
					t.Fatalf("HostAddress = %v, %v; want %s", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrHostAddress) {
				t.Fatalf("HostAddress = %v, %v; want ErrHostAddress", got, err)
			}
			for _, part := range tt.err {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q lacks %q", err, part)
				}
			}
		})
	}
}
