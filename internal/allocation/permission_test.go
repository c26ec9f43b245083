package allocation

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestPermissionLifetime(t *testing.T) {
	tests := []struct {
		name    string
		add     string        // installed at start
		refresh time.Duration // if > 0, re-added at start+refresh
		at      time.Duration // checked at start+at
		check   string
		want    bool
	}{
		{"fresh", "8.8.8.8", 0, 0, "8.8.8.8", true},
		{"just before 300 s", "8.8.8.8", 0, 300*time.Second - 1, "8.8.8.8", true},
		{"expired at 300 s", "8.8.8.8", 0, 300 * time.Second, "8.8.8.8", false},
		{"refresh extends", "8.8.8.8", 200 * time.Second, 450 * time.Second, "8.8.8.8", true},
		{"refresh lasts 300 s", "8.8.8.8", 200 * time.Second, 500 * time.Second, "8.8.8.8", false},
		{"other address", "8.8.8.8", 0, 0, "8.8.4.4", false},
		{"mapped matches v4", "8.8.8.8", 0, 0, "::ffff:8.8.8.8", true},
		{"v4 matches mapped install", "::ffff:8.8.8.8", 0, 0, "8.8.8.8", true},
		{"zone ignored", "fe80::1%eth0", 0, 0, "fe80::1", true},
		{"v6", "2001:4860::1", 0, 0, "2001:4860::1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := NewTable(DefaultConfig())
			a := &Allocation{FiveTuple: tuple(1)}
			a.Refresh(time.Hour, start)
			if err := tb.Insert(a); err != nil {
				t.Fatal(err)
			}
			if err := a.AddPermission(ip(tt.add), start); err != nil {
				t.Fatalf("AddPermission: %v", err)
			}
			if tt.refresh > 0 {
				if err := a.AddPermission(ip(tt.add), start.Add(tt.refresh)); err != nil {
					t.Fatalf("AddPermission (refresh): %v", err)
				}
			}
			if got := a.HasPermission(ip(tt.check), start.Add(tt.at)); got != tt.want {
				t.Errorf("HasPermission(%s) at +%v = %v, want %v", tt.check, tt.at, got, tt.want)
			}
		})
	}
}

func TestPermissionCap(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxPermissions = 2
	tb := NewTable(cfg)
	a := &Allocation{FiveTuple: tuple(1)}
	a.Refresh(time.Hour, start)
	if err := tb.Insert(a); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at   time.Duration
		ip   string
		want error
	}{
		{0, "8.8.8.1", nil},
		{0, "8.8.8.2", nil},
		{0, "8.8.8.3", ErrTooManyPermissions},
		{10 * time.Second, "8.8.8.1", nil},  // refreshing an existing one is fine at the cap
		{300 * time.Second, "8.8.8.3", nil}, // 8.8.8.2 expired: its slot is reused
		{300 * time.Second, "8.8.8.4", ErrTooManyPermissions},
		{0, "", ErrBadPeer},
	}
	for i, s := range steps {
		var addr netip.Addr
		if s.ip != "" {
			addr = ip(s.ip)
		}
		if err := a.AddPermission(addr, start.Add(s.at)); !errors.Is(err, s.want) {
			t.Fatalf("step %d: AddPermission(%q) = %v, want %v", i, s.ip, err, s.want)
		}
	}
	now := start.Add(300 * time.Second)
	for addr, want := range map[string]bool{"8.8.8.1": true, "8.8.8.2": false, "8.8.8.3": true, "8.8.8.4": false} {
		if got := a.HasPermission(ip(addr), now); got != want {
			t.Errorf("HasPermission(%s) = %v, want %v", addr, got, want)
		}
	}
	if len(a.perms) != 2 {
		t.Errorf("len(perms) = %d, want 2 (slot reused)", len(a.perms))
	}
}

func TestPruneFreesPermissions(t *testing.T) {
	a := &Allocation{}
	for _, s := range []string{"8.8.8.8", "8.8.4.4"} {
		if err := a.AddPermission(ip(s), start); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.AddPermission(ip("1.1.1.1"), start.Add(100*time.Second)); err != nil {
		t.Fatal(err)
	}
	a.Prune(start.Add(300 * time.Second))
	if len(a.perms) != 1 || !a.HasPermission(ip("1.1.1.1"), start.Add(300*time.Second)) {
		t.Fatalf("after first prune perms = %v, want only 1.1.1.1", a.perms)
	}
	a.Prune(start.Add(400 * time.Second))
	if a.perms != nil {
		t.Fatalf("after all expired perms = %v, want nil", a.perms)
	}
}

func TestHasPermissionDoesNotAllocate(t *testing.T) {
	a := &Allocation{}
	for i := range 8 {
		if err := a.AddPermission(netip.AddrFrom4([4]byte{8, 8, 8, byte(i)}), start); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"8.8.8.7", "::ffff:8.8.8.7", "fe80::1%eth0", "9.9.9.9"} {
		addr := ip(s)
		if n := testing.AllocsPerRun(100, func() { a.HasPermission(addr, start) }); n != 0 {
			t.Errorf("HasPermission(%s) allocates %v times, want 0", s, n)
		}
	}
}

func BenchmarkHasPermission(b *testing.B) {
	a := &Allocation{}
	for i := range 4 {
		if err := a.AddPermission(netip.AddrFrom4([4]byte{8, 8, 8, byte(i)}), start); err != nil {
			b.Fatal(err)
		}
	}
	addr := ip("8.8.8.3")
	b.ReportAllocs()
	for b.Loop() {
		a.HasPermission(addr, start)
	}
}
