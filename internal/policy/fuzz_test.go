package policy

import (
	"net/netip"
	"testing"
)

func FuzzAllowed(f *testing.F) {
	for _, s := range []string{"::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1",
		"2001:0:808:808:8000:ffff:f5ff:fffe", "fe80::1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "::"} {
		b := netip.MustParseAddr(s).As16()
		f.Add(b[:])
	}
	policies := []*PeerPolicy{
		NewPeerPolicy(nil, nil, true),
		NewPeerPolicy([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, nil, true),
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) != 16 {
			return
		}
		ip := netip.AddrFrom16([16]byte(raw))
		for i, p := range policies {
			got := p.Allowed(ip)
			if err := p.Check(ip); (err == nil) != got {
				t.Fatalf("policy %d: Allowed(%v) = %v but Check = %v", i, ip, got, err)
			}
			if ip.Unmap().IsUnspecified() && got {
				t.Fatalf("policy %d: unspecified %v allowed", i, ip)
			}
			if ip.Is4In6() {
				if v4 := ip.Unmap(); p.Allowed(v4) != got {
					t.Fatalf("policy %d: Allowed(%v) = %v, Allowed(%v) = %v", i, ip, got, v4, !got)
				}
			} else if z := ip.WithZone("eth0"); p.Allowed(z) != got {
				t.Fatalf("policy %d: Allowed(%v) = %v, Allowed(%v) = %v", i, ip, got, z, !got)
			}
		}
	})
}
