package allocation

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestAddPermissionsAllOrNothing(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	cfg := DefaultConfig()
	cfg.MaxPermissions = 2
	tab := NewTable(cfg)
	a := &Allocation{FiveTuple: FiveTuple{Client: netip.MustParseAddrPort("192.0.2.1:1"), Proto: UDP}}
	a.Refresh(time.Hour, now)
	if err := tab.Insert(a); err != nil {
		t.Fatal(err)
	}
	ip := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	if err := a.AddPermissions([]netip.Addr{ip("198.51.100.1")}, now); err != nil {
		t.Fatal(err)
	}
	// Two new addresses do not fit next to the existing one: nothing changes.
	err := a.AddPermissions([]netip.Addr{ip("198.51.100.2"), ip("198.51.100.3")}, now)
	if !errors.Is(err, ErrTooManyPermissions) {
		t.Fatalf("err = %v, want ErrTooManyPermissions", err)
	}
	if a.HasPermission(ip("198.51.100.2"), now) {
		t.Fatal("a refused AddPermissions installed its first address")
	}
	// Duplicates and already-permitted addresses need no new room.
	if err := a.AddPermissions([]netip.Addr{ip("198.51.100.1"), ip("198.51.100.2"), ip("::ffff:198.51.100.2")}, now); err != nil {
		t.Fatalf("fitting request refused: %v", err)
	}
	// Expired permissions make room again.
	later := now.Add(cfg.PermissionLifetime)
	if err := a.AddPermissions([]netip.Addr{ip("198.51.100.3"), ip("198.51.100.4")}, later); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if !a.HasPermission(ip("198.51.100.4"), later) || a.HasPermission(ip("198.51.100.1"), later) {
		t.Fatal("permissions after expiry are wrong")
	}
	if err := a.AddPermissions([]netip.Addr{{}}, later); !errors.Is(err, ErrBadPeer) {
		t.Fatalf("invalid address: %v, want ErrBadPeer", err)
	}
}

func TestForgetFamily(t *testing.T) {
	clk := newClock()
	a := &Allocation{}
	v4, v6 := ap("8.8.8.8:5000"), ap("[2001:4860::8888]:5000")
	if err := a.BindChannel(0x4000, v4, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := a.BindChannel(0x4001, v6, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := a.AddPermissions([]netip.Addr{ip("8.8.4.4"), ip("2001:4860::8844")}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	a.ForgetFamily(false) // the IPv6 relayed address is deleted
	now := clk.Now()
	if _, ok := a.ChannelPeer(0x4001, now); ok || a.HasPermission(v6.Addr(), now) || a.HasPermission(ip("2001:4860::8844"), now) {
		t.Fatal("IPv6 channel or permissions survived ForgetFamily(false)")
	}
	if p, ok := a.ChannelPeer(0x4000, now); !ok || p != v4 || !a.HasPermission(ip("8.8.4.4"), now) {
		t.Fatal("IPv4 channel or permission lost by ForgetFamily(false)")
	}
	// The IPv6 channel number is not quarantined: its relayed address is gone.
	if err := a.BindChannel(0x4001, ap("8.8.8.9:1"), now); err != nil {
		t.Fatalf("re-binding the forgotten number: %v", err)
	}
	a.ForgetFamily(true)
	if a.perms != nil || a.chans != nil {
		t.Fatalf("after forgetting both families: perms %v, chans %v", a.perms, a.chans)
	}
}
