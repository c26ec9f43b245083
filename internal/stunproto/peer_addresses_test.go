package stunproto

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/pion/stun/v3"
)

// relayedAddresses appends to dst every XOR-RELAYED-ADDRESS of m, in message
// order, and returns the extended slice: a success response to a dual
// allocation request carries two, one IPv4 and one IPv6 (RFC 8656 §7.2). Its
// errors and allocations are those of PeerAddresses.
func relayedAddresses(m *stun.Message, dst []netip.AddrPort) ([]netip.AddrPort, error) {
	return xorAddresses(m, stun.AttrXORRelayedAddress, dst)
}

func TestPeerAddresses(t *testing.T) {
	a := netip.MustParseAddrPort("192.0.2.1:1000")
	b := netip.MustParseAddrPort("[2001:db8::2]:2000")
	c := netip.MustParseAddrPort("198.51.100.3:3000")
	bad := stun.RawAttribute{Type: stun.AttrXORPeerAddress, Value: []byte{0, 9, 0, 0, 1, 2, 3, 4}}
	tests := []struct {
		name    string
		setters []stun.Setter
		want    []netip.AddrPort
		err     error
	}{
		{"one", []stun.Setter{XORPeerAddress{Addr: a}}, []netip.AddrPort{a}, nil},
		{"three mixed families", []stun.Setter{XORPeerAddress{Addr: a}, Lifetime{}, XORPeerAddress{Addr: b}, XORPeerAddress{Addr: c}}, []netip.AddrPort{a, b, c}, nil},
		{"none", []stun.Setter{Lifetime{}}, nil, stun.ErrAttributeNotFound},
		{"second malformed", []stun.Setter{XORPeerAddress{Addr: a}, bad}, nil, ErrBadFamily},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := build(t, tc.setters...)
			prefix := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:1")}
			got, err := PeerAddresses(m, prefix)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if !slices.Equal(got, append(prefix, tc.want...)) {
				t.Errorf("got %v, want prefix + %v", got, tc.want)
			}
		})
	}
}

func TestPeerAddressesAllocs(t *testing.T) {
	m := build(t, XORPeerAddress{Addr: netip.MustParseAddrPort("192.0.2.1:1000")}, XORPeerAddress{Addr: netip.MustParseAddrPort("[2001:db8::2]:2000")})
	dst := make([]netip.AddrPort, 0, 4)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := PeerAddresses(m, dst[:0]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("allocs = %v, want 0", allocs)
	}
}

func TestRelayedAddresses(t *testing.T) {
	v4 := netip.MustParseAddrPort("203.0.113.1:50000")
	v6 := netip.MustParseAddrPort("[2001:db8::1]:50002")
	m := build(t, XORRelayedAddress{Addr: v4}, Lifetime{}, XORPeerAddress{Addr: netip.MustParseAddrPort("192.0.2.1:1")}, XORRelayedAddress{Addr: v6})
	got, err := relayedAddresses(m, nil)
	if err != nil || !slices.Equal(got, []netip.AddrPort{v4, v6}) {
		t.Fatalf("relayedAddresses = %v, %v; want [%v %v]", got, err, v4, v6)
	}
	if _, err := relayedAddresses(build(t, XORPeerAddress{Addr: v4}), nil); !errors.Is(err, stun.ErrAttributeNotFound) {
		t.Fatalf("relayedAddresses without any = %v, want ErrAttributeNotFound", err)
	}
}
