package allocation

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestPermissionsAndChannels: the report accessors list what is live at
// now, with expiries, and leave out what expired (and channels in their
// quarantine).
func TestPermissionsAndChannels(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	cfg := DefaultConfig()
	tab := NewTable(cfg)
	a := &Allocation{FiveTuple: FiveTuple{Client: netip.MustParseAddrPort("192.0.2.1:1"), Proto: UDP}}
	a.Refresh(time.Hour, now)
	if err := tab.Insert(a); err != nil {
		t.Fatal(err)
	}
	peer := netip.MustParseAddrPort("198.51.100.1:5000")
	if err := a.AddPermission(netip.MustParseAddr("198.51.100.2"), now); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Minute)
	if err := a.BindChannel(0x4001, peer, later); err != nil {
		t.Fatal(err)
	}
	type perm struct {
		ip  netip.Addr
		exp time.Time
	}
	list := func(at time.Time) (ps []perm, chans []string) {
		a.Permissions(at, func(ip netip.Addr, exp time.Time) { ps = append(ps, perm{ip, exp}) })
		a.Channels(at, func(num uint16, p netip.AddrPort, exp time.Time) {
			chans = append(chans, netip.AddrPortFrom(p.Addr(), p.Port()).String()+"@"+exp.Sub(later).String()+"#"+string(rune('0'+num-0x4000)))
		})
		slices.SortFunc(ps, func(x, y perm) int { return x.ip.Compare(y.ip) })
		return ps, chans
	}
	ps, chans := list(later)
	want := []perm{
		{netip.MustParseAddr("198.51.100.1"), later.Add(cfg.PermissionLifetime)},
		{netip.MustParseAddr("198.51.100.2"), now.Add(cfg.PermissionLifetime)},
	}
	if !slices.Equal(ps, want) {
		t.Errorf("permissions %v, want %v", ps, want)
	}
	if wantC := []string{"198.51.100.1:5000@" + cfg.ChannelLifetime.String() + "#1"}; !slices.Equal(chans, wantC) {
		t.Errorf("channels %v, want %v", chans, wantC)
	}
	// Past the first permission's lifetime only the channel's peer is left;
	// past the channel's lifetime, nothing (the binding is in quarantine).
	ps, _ = list(now.Add(cfg.PermissionLifetime))
	if len(ps) != 1 || ps[0].ip != want[0].ip {
		t.Errorf("permissions %v after the first expired, want only %v", ps, want[0].ip)
	}
	ps, chans = list(later.Add(cfg.ChannelLifetime))
	if len(ps) != 0 || len(chans) != 0 {
		t.Errorf("after expiry: permissions %v, channels %v; want none", ps, chans)
	}
}
