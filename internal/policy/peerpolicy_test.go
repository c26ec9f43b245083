package policy

import (
	"errors"
	"net/netip"
	"testing"
)

// teredo builds a Teredo address (RFC 4380 §4) with the given server and
// client IPv4 addresses.
func teredo(server, client string) netip.Addr {
	s := netip.MustParseAddr(server).As4()
	c := netip.MustParseAddr(client).As4()
	b := [16]byte{0x20, 0x01, 0x00, 0x00, s[0], s[1], s[2], s[3], 0x80, 0x00, 0xff, 0xff,
		^c[0], ^c[1], ^c[2], ^c[3]}
	return netip.AddrFrom16(b)
}

func TestAllowedDefaults(t *testing.T) {
	p := NewPeerPolicy(nil, nil, true)
	tests := []struct {
		name string
		ip   netip.Addr
		want bool
	}{
		{"mapped loopback", netip.MustParseAddr("::ffff:127.0.0.1"), false},
		{"compatible loopback", netip.MustParseAddr("::127.0.0.1"), false},
		{"nat64 loopback", netip.MustParseAddr("64:ff9b::7f00:1"), false},
		{"nat64 private", netip.MustParseAddr("64:ff9b::10.0.0.1"), false},
		{"nat64 public", netip.MustParseAddr("64:ff9b::8.8.8.8"), true},
		{"nat64 local-use /96 loopback", netip.MustParseAddr("64:ff9b:1::7f00:1"), false},
		{"nat64 local-use /48 metadata", netip.MustParseAddr("64:ff9b:1:a9fe:a9:fe00::"), false},
		{"nat64 local-use /64 private", netip.MustParseAddr("64:ff9b:1:0:a:0:100::"), false},
		{"siit private", netip.MustParseAddr("::ffff:0:192.168.0.1"), false},
		{"compatible public", netip.MustParseAddr("::8.8.8.8"), false},
		{"siit public", netip.MustParseAddr("::ffff:0:8.8.8.8"), false},
		{"nat64 local-use /96 public, /48 layout unspecified", netip.MustParseAddr("64:ff9b:1::808:808"), false},
		{"unspecified v4", netip.MustParseAddr("0.0.0.0"), false},
		{"unspecified v6", netip.MustParseAddr("::"), false},
		{"this network", netip.MustParseAddr("0.1.2.3"), false},
		{"metadata", netip.MustParseAddr("169.254.169.254"), false},
		{"mapped metadata", netip.MustParseAddr("::ffff:169.254.169.254"), false},
		{"6to4 loopback", netip.MustParseAddr("2002:7f00:0001::1"), false},
		{"6to4 public", netip.MustParseAddr("2002:0808:0808::1"), true},
		{"teredo client 10.0.0.1", teredo("8.8.4.4", "10.0.0.1"), false},
		{"teredo server 10.0.0.1", teredo("10.0.0.1", "8.8.8.8"), false},
		{"teredo public", teredo("8.8.4.4", "8.8.8.8"), true},
		{"isatap private", netip.MustParseAddr("2a00:1450::5efe:10.1.1.1"), false},
		{"isatap global-bit private", netip.MustParseAddr("2a00:1450::200:5efe:192.168.1.1"), false},
		{"link-local v6", netip.MustParseAddr("fe80::1"), false},
		{"link-local v6 zoned", netip.MustParseAddr("fe80::1%eth0"), false},
		{"ula", netip.MustParseAddr("fd00::1"), false},
		{"site-local", netip.MustParseAddr("fec0::1"), false},
		{"documentation v6", netip.MustParseAddr("2001:db8::1"), false},
		{"discard-only", netip.MustParseAddr("100::1"), false},
		{"loopback v6", netip.MustParseAddr("::1"), false},
		{"multicast v6", netip.MustParseAddr("ff02::1"), false},
		{"rfc1918 10", netip.MustParseAddr("10.1.2.3"), false},
		{"rfc1918 172", netip.MustParseAddr("172.31.255.255"), false},
		{"rfc1918 192", netip.MustParseAddr("192.168.1.1"), false},
		{"cgn", netip.MustParseAddr("100.64.0.1"), false},
		{"benchmarking", netip.MustParseAddr("198.19.0.1"), false},
		{"test-net-3", netip.MustParseAddr("203.0.113.9"), false},
		{"multicast v4", netip.MustParseAddr("224.0.0.1"), false},
		{"broadcast", netip.MustParseAddr("255.255.255.255"), false},
		{"class e", netip.MustParseAddr("240.0.0.1"), false},
		{"public v4", netip.MustParseAddr("8.8.8.8"), true},
		{"public v4 edge of 172.16/12", netip.MustParseAddr("172.32.0.1"), true},
		{"public v6", netip.MustParseAddr("2001:4860:4860::8888"), true},
		{"mapped public", netip.MustParseAddr("::ffff:8.8.8.8"), true},
		{"invalid", netip.Addr{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Allowed(tt.ip); got != tt.want {
				t.Errorf("Allowed(%v) = %v, want %v", tt.ip, got, tt.want)
			}
			err := p.Check(tt.ip)
			if tt.want && err != nil {
				t.Errorf("Check(%v) = %v, want nil", tt.ip, err)
			}
			if !tt.want && !errors.Is(err, ErrDenied) {
				t.Errorf("Check(%v) = %v, want ErrDenied", tt.ip, err)
			}
		})
	}
}

func TestAllowedDevelopmentEdge(t *testing.T) {
	allow := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	p := NewPeerPolicy(allow, nil, true)
	tests := []struct {
		ip   string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.9.9.9", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"::127.0.0.1", false},
		{"10.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"::ffff:0.0.0.0", false},
		{"169.254.169.254", false},
		{"8.8.8.8", true},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			if got := p.Allowed(netip.MustParseAddr(tt.ip)); got != tt.want {
				t.Errorf("Allowed(%s) = %v, want %v", tt.ip, got, tt.want)
			}
		})
	}
}

func TestAllowAndDenyLists(t *testing.T) {
	pfx := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	tests := []struct {
		name        string
		allow, deny []netip.Prefix
		defaults    bool
		ip          string
		want        bool
	}{
		{"no lists allow everything routable", nil, nil, false, "10.0.0.1", true},
		{"no lists still deny unspecified", nil, nil, false, "0.0.0.0", false},
		{"allow all cannot open unspecified", pfx("0.0.0.0/0", "::/0"), nil, true, "::", false},
		{"custom deny v4", nil, pfx("8.8.8.0/24"), false, "8.8.8.8", false},
		{"custom deny v4 reaches mapped", nil, pfx("8.8.8.0/24"), false, "::ffff:8.8.8.8", false},
		{"custom deny v4 reaches 6to4", nil, pfx("8.8.8.0/24"), false, "2002:808:808::1", false},
		{"custom deny mapped prefix", nil, pfx("::ffff:8.8.8.0/120"), false, "8.8.8.8", false},
		{"custom deny unmasked prefix", nil, pfx("8.8.8.8/24"), false, "8.8.8.1", false},
		{"custom deny v6", nil, pfx("2001:4860::/32"), false, "2001:4860:4860::8888", false},
		{"allow beats deny", pfx("10.1.0.0/16"), nil, true, "10.1.2.3", true},
		{"allow is narrow", pfx("10.1.0.0/16"), nil, true, "10.2.0.1", false},
		{"allow via embedded v4", pfx("10.1.0.0/16"), nil, true, "64:ff9b::10.1.0.1", true},
		{"allow v6 range", pfx("fd00::/8"), nil, true, "fd00::1", true},
		{"invalid prefixes ignored", []netip.Prefix{{}}, []netip.Prefix{{}}, false, "8.8.8.8", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPeerPolicy(tt.allow, tt.deny, tt.defaults)
			if got := p.Allowed(netip.MustParseAddr(tt.ip)); got != tt.want {
				t.Errorf("Allowed(%s) = %v, want %v", tt.ip, got, tt.want)
			}
		})
	}
}

// TestAllowCoversEveryDeniedInterpretation checks that an IPv4 allow list
// entry lifts the deny list for the embedded interpretations it covers only:
// an IPv6 address that also embeds a denied IPv4 address outside the allow
// list stays denied (security review 2026-12, finding 5).
func TestAllowCoversEveryDeniedInterpretation(t *testing.T) {
	allow := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}
	p := NewPeerPolicy(allow, nil, true)
	tests := []struct {
		name string
		ip   string
		want string // Check's error, "" when allowed
	}{
		{"teredo server allowed, client private", "2001:0:a01:203::f5ff:fffe",
			"policy: peer address denied: 2001:0:a01:203::f5ff:fffe embeds 10.0.0.1 in 10.0.0.0/8"},
		{"6to4 allowed, isatap metadata", "2002:a01:203::5efe:a9fe:a9fe",
			"policy: peer address denied: 2002:a01:203::5efe:a9fe:a9fe embeds 169.254.169.254 in 169.254.0.0/16"},
		{"nat64 /48 layout allowed, /96 layout loopback", "64:ff9b:1:a01:2:300:7f00:1",
			"policy: peer address denied: 64:ff9b:1:a01:2:300:7f00:1 embeds 127.0.0.1 in 127.0.0.0/8"},
		{"teredo server allowed, client public", teredo("10.1.2.3", "8.8.8.8").String(), ""},
		{"nat64 well-known allowed", "64:ff9b::10.1.0.1", ""},
		{"mapped allowed", "::ffff:10.1.2.3", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.ip)
			err := p.Check(ip)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check(%v) = %v, want allowed", ip, err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("Check(%v) = %v, want %q", ip, err, tt.want)
			}
		})
	}
}

// TestAllowLiteralIPv6Wins checks that an allow entry covering the IPv6
// address itself allows it whatever it embeds: the operator named that
// range.
func TestAllowLiteralIPv6Wins(t *testing.T) {
	p := NewPeerPolicy([]netip.Prefix{netip.MustParsePrefix("2001::/32")}, nil, true)
	if ip := teredo("8.8.4.4", "10.0.0.1"); !p.Allowed(ip) {
		t.Errorf("Allowed(%v) = false with 2001::/32 allowed, want true", ip)
	}
}

func TestCheckMessage(t *testing.T) {
	p := NewPeerPolicy(nil, nil, true)
	tests := []struct {
		ip   netip.Addr
		want string
	}{
		{netip.Addr{}, "policy: peer address denied: invalid address"},
		{netip.MustParseAddr("::"), "policy: peer address denied: :: is unspecified"},
		{netip.MustParseAddr("10.0.0.1"), "policy: peer address denied: 10.0.0.1 in 10.0.0.0/8"},
		{netip.MustParseAddr("fe80::1"), "policy: peer address denied: fe80::1 in fe80::/10"},
		{netip.MustParseAddr("2002:7f00:1::1"), "policy: peer address denied: 2002:7f00:1::1 embeds 127.0.0.1 in 127.0.0.0/8"},
		{netip.MustParseAddr("::8.8.8.8"), "policy: peer address denied: ::808:808 in ::/96"},
		{netip.MustParseAddr("::ffff:0:8.8.8.8"), "policy: peer address denied: ::ffff:0:808:808 in ::ffff:0:0:0/96"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			err := p.Check(tt.ip)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Check(%v) = %v, want %q", tt.ip, err, tt.want)
			}
		})
	}
}

func TestDefaultDenyIsACopy(t *testing.T) {
	a := DefaultDeny()
	a[0] = netip.MustParsePrefix("8.8.8.0/24")
	if got := DefaultDeny()[0]; got != netip.MustParsePrefix("0.0.0.0/8") {
		t.Fatalf("DefaultDeny()[0] = %v after caller mutation, want 0.0.0.0/8", got)
	}
	p := NewPeerPolicy(nil, nil, true)
	if !p.Allowed(netip.MustParseAddr("8.8.8.8")) {
		t.Fatal("mutating a DefaultDeny copy changed later policies")
	}
}

func TestAllowedDoesNotAllocate(t *testing.T) {
	p := NewPeerPolicy([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, nil, true)
	ips := []netip.Addr{
		netip.MustParseAddr("8.8.8.8"),
		netip.MustParseAddr("fe80::1%eth0"),
		netip.MustParseAddr("2001:4860:4860::8888"),
		netip.MustParseAddr("64:ff9b:1::7f00:1"),
		teredo("8.8.4.4", "10.0.0.1"),
	}
	for _, ip := range ips {
		if n := testing.AllocsPerRun(100, func() { p.Allowed(ip) }); n != 0 {
			t.Errorf("Allowed(%v) allocates %v times per call, want 0", ip, n)
		}
	}
}

func BenchmarkAllowed(b *testing.B) {
	p := NewPeerPolicy(nil, nil, true)
	cases := []struct {
		name string
		ip   netip.Addr
	}{
		{"public-v4", netip.MustParseAddr("8.8.8.8")},
		{"public-v6", netip.MustParseAddr("2001:4860:4860::8888")},
		{"denied-v4", netip.MustParseAddr("10.0.0.1")},
		{"teredo", teredo("8.8.4.4", "8.8.8.8")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Allowed(c.ip)
			}
		})
	}
}
