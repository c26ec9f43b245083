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
