package datapath

import (
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestSockaddrRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		family  int
		in      string
		want    string // after the kernel-side decode; zones are not reported
		wantLen uintptr
		scope   uint32
	}{
		{"ipv4", unix.AF_INET, "192.0.2.7:3478", "192.0.2.7:3478", unix.SizeofSockaddrInet4, 0},
		{"ipv4 high port", unix.AF_INET, "10.1.2.3:65535", "10.1.2.3:65535", unix.SizeofSockaddrInet4, 0},
		{"ipv4 mapped on ipv4 socket", unix.AF_INET, "[::ffff:198.51.100.1]:1", "198.51.100.1:1", unix.SizeofSockaddrInet4, 0},
		{"ipv6", unix.AF_INET6, "[2001:db8::1]:50000", "[2001:db8::1]:50000", unix.SizeofSockaddrInet6, 0},
		{"ipv6 numeric zone", unix.AF_INET6, "[fe80::1%7]:5", "[fe80::1]:5", unix.SizeofSockaddrInet6, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sa unix.RawSockaddrInet6
			n, err := putSockaddr(&sa, tt.family, netip.MustParseAddrPort(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.wantLen {
				t.Fatalf("length = %d, want %d", n, tt.wantLen)
			}
			if tt.family == unix.AF_INET6 && sa.Scope_id != tt.scope {
				t.Fatalf("scope id = %d, want %d", sa.Scope_id, tt.scope)
			}
			if got := addrPortFromRaw(&sa); got != netip.MustParseAddrPort(tt.want) {
				t.Fatalf("decoded %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSockaddrPortByteOrder(t *testing.T) {
	var sa unix.RawSockaddrInet6
	if _, err := putSockaddr(&sa, unix.AF_INET, netip.MustParseAddrPort("1.2.3.4:258")); err != nil {
		t.Fatal(err)
	}
	sa4 := (*[unix.SizeofSockaddrInet4]byte)(unsafe.Pointer(&sa))
	if sa4[2] != 1 || sa4[3] != 2 {
		t.Fatalf("port bytes = %d %d, want network order 1 2", sa4[2], sa4[3])
	}
	if got := [4]byte(sa4[4:8]); got != [4]byte{1, 2, 3, 4} {
		t.Fatalf("address bytes = %v", got)
	}
}

func TestAddrPortFromRawUnknownFamily(t *testing.T) {
	sa := unix.RawSockaddrInet6{Family: unix.AF_UNIX}
	if got := addrPortFromRaw(&sa); got.IsValid() {
		t.Fatalf("addrPortFromRaw(AF_UNIX) = %v, want zero", got)
	}
}

func TestZoneIndex(t *testing.T) {
	tests := []struct {
		zone string
		want uint32
		ok   bool
	}{
		{"", 0, true},
		{"0", 0, true},
		{"12", 12, true},
		{"4294967295", 4294967295, true},
		{"4294967296", 0, false},
		{"99999999999999999999999", 0, false},
		{"eth0", 0, false},
		{"1a", 0, false},
		{"-1", 0, false},
	}
	for _, tt := range tests {
		got, ok := zoneIndex(tt.zone)
		if got != tt.want || ok != tt.ok {
			t.Errorf("zoneIndex(%q) = %d, %v; want %d, %v", tt.zone, got, ok, tt.want, tt.ok)
		}
	}
}
