package allocation

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// chanStep is one action in a channel scenario: advance the fake clock, then
// bind num to peer and expect err.
type chanStep struct {
	advance time.Duration
	num     uint16
	peer    string
	want    error
}

func TestBindChannelRules(t *testing.T) {
	const (
		p1 = "8.8.8.8:5000"
		p2 = "8.8.4.4:6000"
	)
	tests := []struct {
		name  string
		steps []chanStep
	}{
		{"range low edge", []chanStep{{0, 0x4000, p1, nil}}},
		{"range high edge", []chanStep{{0, 0x4FFF, p1, nil}}},
		{"below range", []chanStep{{0, 0x3FFF, p1, ErrBadChannelNumber}}},
		{"RFC 5766 range", []chanStep{{0, 0x5000, p1, nil}, {0, 0x7FFF, p2, nil}}},
		{"above RFC 5766 range", []chanStep{{0, 0x8000, p1, ErrBadChannelNumber}}},
		{"zero", []chanStep{{0, 0, p1, ErrBadChannelNumber}}},
		{"invalid peer", []chanStep{{0, 0x4000, "", ErrBadPeer}}},
		{"same pair rebinds", []chanStep{{0, 0x4000, p1, nil}, {time.Minute, 0x4000, p1, nil}}},
		{"number in use", []chanStep{{0, 0x4000, p1, nil}, {0, 0x4000, p2, ErrChannelInUse}}},
		{"peer bound", []chanStep{{0, 0x4000, p1, nil}, {0, 0x4001, p1, ErrPeerBound}}},
		{"same IP other port is another peer", []chanStep{{0, 0x4000, p1, nil}, {0, 0x4001, "8.8.8.8:5001", nil}}},
		{"mapped peer is the same peer", []chanStep{{0, 0x4000, p1, nil}, {0, 0x4001, "[::ffff:8.8.8.8]:5000", ErrPeerBound}}},
		{"number quarantined after expiry", []chanStep{{0, 0x4000, p1, nil}, {600 * time.Second, 0x4000, p2, ErrChannelInUse}}},
		{"peer quarantined after expiry", []chanStep{{0, 0x4000, p1, nil}, {600 * time.Second, 0x4001, p1, ErrPeerBound}}},
		{"quarantine lasts until 5 min after expiry", []chanStep{{0, 0x4000, p1, nil}, {900*time.Second - 1, 0x4000, p2, ErrChannelInUse}}},
		{"number free 5 min after expiry", []chanStep{{0, 0x4000, p1, nil}, {900 * time.Second, 0x4000, p2, nil}}},
		{"peer free 5 min after expiry", []chanStep{{0, 0x4000, p1, nil}, {900 * time.Second, 0x4001, p1, nil}}},
		{"same pair may revive during quarantine", []chanStep{{0, 0x4000, p1, nil}, {700 * time.Second, 0x4000, p1, nil}, {0, 0x4000, p2, ErrChannelInUse}}},
		{"refresh moves quarantine", []chanStep{{0, 0x4000, p1, nil}, {500 * time.Second, 0x4000, p1, nil}, {800 * time.Second, 0x4000, p2, ErrChannelInUse}, {100 * time.Second, 0x4000, p2, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			a := &Allocation{}
			for i, s := range tt.steps {
				clk.Advance(s.advance)
				var peer netip.AddrPort
				if s.peer != "" {
					peer = ap(s.peer)
				}
				if err := a.BindChannel(s.num, peer, clk.Now()); !errors.Is(err, s.want) {
					t.Fatalf("step %d: BindChannel(%#x, %s) = %v, want %v", i, s.num, s.peer, err, s.want)
				}
			}
		})
	}
}

// TestBindChannelStrict: with StrictChannelNumbers only RFC 8656's
// 0x4000-0x4FFF are bound.
func TestBindChannelStrict(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StrictChannelNumbers = true
	a := &Allocation{cfg: &cfg}
	now := newClock().Now()
	for _, tc := range []struct {
		num  uint16
		want error
	}{{0x4FFF, nil}, {0x5000, ErrBadChannelNumber}, {0x7FFF, ErrBadChannelNumber}, {0x4000, nil}} {
		if err := a.BindChannel(tc.num, netip.AddrPortFrom(netip.AddrFrom4([4]byte{8, 8, 8, 8}), tc.num), now); !errors.Is(err, tc.want) {
			t.Errorf("strict BindChannel(%#x) = %v, want %v", tc.num, err, tc.want)
		}
	}
}

func TestChannelLookupAndExpiry(t *testing.T) {
	clk := newClock()
	a := &Allocation{}
	peer := ap("8.8.8.8:5000")
	if err := a.BindChannel(0x4001, peer, clk.Now()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		advance  time.Duration
		wantBind bool
		wantPerm bool
	}{
		{0, true, true},
		{300*time.Second - 1, true, true},
		{1, true, false}, // permission (300 s) expires before the channel (600 s)
		{300*time.Second - 1, true, false},
		{1, false, false},
	}
	for i, tt := range tests {
		clk.Advance(tt.advance)
		now := clk.Now()
		gotPeer, ok := a.ChannelPeer(0x4001, now)
		if ok != tt.wantBind || (ok && gotPeer != peer) {
			t.Errorf("step %d: ChannelPeer = %v, %v; want %v, %v", i, gotPeer, ok, peer, tt.wantBind)
		}
		num, ok := a.PeerChannel(ap("[::ffff:8.8.8.8]:5000"), now)
		if ok != tt.wantBind || (ok && num != 0x4001) {
			t.Errorf("step %d: PeerChannel = %#x, %v; want 0x4001, %v", i, num, ok, tt.wantBind)
		}
		if got := a.HasPermission(peer.Addr(), now); got != tt.wantPerm {
			t.Errorf("step %d: HasPermission = %v, want %v", i, got, tt.wantPerm)
		}
	}
	if _, ok := a.ChannelPeer(0x4002, clk.Now()); ok {
		t.Error("ChannelPeer of an unbound number returned true")
	}
	if _, ok := a.PeerChannel(ap("8.8.8.8:5001"), clk.Now()); ok {
		t.Error("PeerChannel of an unbound peer returned true")
	}
}

func TestBindChannelRefreshesPermission(t *testing.T) {
	clk := newClock()
	a := &Allocation{}
	peer := ap("8.8.8.8:5000")
	if err := a.BindChannel(0x4000, peer, clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(250 * time.Second)
	if err := a.BindChannel(0x4000, peer, clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(250 * time.Second) // 500 s after the first bind, 250 s after the refresh
	if !a.HasPermission(ip("8.8.8.8"), clk.Now()) {
		t.Fatal("re-binding did not refresh the permission")
	}
}

func TestChannelCaps(t *testing.T) {
	tests := []struct {
		name      string
		maxChans  int
		maxPerms  int
		prebind   []chanStep
		step      chanStep
		wantChans int
	}{
		{"channel cap", 2, 64,
			[]chanStep{{0, 0x4000, "8.8.8.1:1", nil}, {0, 0x4001, "8.8.8.2:1", nil}},
			chanStep{0, 0x4002, "8.8.8.3:1", ErrTooManyChannels}, 2},
		{"quarantined binding counts toward cap", 1, 64,
			[]chanStep{{0, 0x4000, "8.8.8.1:1", nil}},
			chanStep{700 * time.Second, 0x4001, "8.8.8.2:1", ErrTooManyChannels}, 1},
		{"slot reused after quarantine", 1, 64,
			[]chanStep{{0, 0x4000, "8.8.8.1:1", nil}},
			chanStep{900 * time.Second, 0x4001, "8.8.8.2:1", nil}, 1},
		{"refresh allowed at cap", 1, 64,
			[]chanStep{{0, 0x4000, "8.8.8.1:1", nil}},
			chanStep{time.Second, 0x4000, "8.8.8.1:1", nil}, 1},
		{"permission cap leaves no half binding", 64, 1,
			[]chanStep{{0, 0x4000, "8.8.8.1:1", nil}},
			chanStep{0, 0x4001, "8.8.8.2:1", ErrTooManyPermissions}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.MaxChannels, cfg.MaxPermissions = tt.maxChans, tt.maxPerms
			tb := NewTable(cfg)
			clk := newClock()
			a := &Allocation{FiveTuple: tuple(1)}
			a.Refresh(time.Hour, clk.Now())
			if err := tb.Insert(a); err != nil {
				t.Fatal(err)
			}
			for _, s := range append(tt.prebind, tt.step) {
				clk.Advance(s.advance)
				if err := a.BindChannel(s.num, ap(s.peer), clk.Now()); !errors.Is(err, s.want) {
					t.Fatalf("BindChannel(%#x, %s) = %v, want %v", s.num, s.peer, err, s.want)
				}
			}
			if len(a.chans) != tt.wantChans {
				t.Errorf("len(chans) = %d, want %d", len(a.chans), tt.wantChans)
			}
			if tt.step.want != nil {
				if _, ok := a.ChannelPeer(tt.step.num, clk.Now()); ok {
					t.Errorf("failed bind left channel %#x bound", tt.step.num)
				}
			}
		})
	}
}

func TestPruneKeepsQuarantine(t *testing.T) {
	clk := newClock()
	a := &Allocation{}
	if err := a.BindChannel(0x4000, ap("8.8.8.8:1"), clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(700 * time.Second) // expired, quarantined
	a.Prune(clk.Now())
	if err := a.BindChannel(0x4000, ap("8.8.4.4:1"), clk.Now()); !errors.Is(err, ErrChannelInUse) {
		t.Fatalf("after Prune in quarantine: BindChannel = %v, want ErrChannelInUse", err)
	}
	if a.perms != nil {
		t.Errorf("expired permission not pruned: %v", a.perms)
	}
	clk.Advance(200 * time.Second) // quarantine over
	a.Prune(clk.Now())
	if a.chans != nil {
		t.Fatalf("chans = %v after quarantine, want nil", a.chans)
	}
}

func TestChannelLookupsDoNotAllocate(t *testing.T) {
	a := &Allocation{}
	for i := range 8 {
		if err := a.BindChannel(0x4000+uint16(i), netip.AddrPortFrom(netip.AddrFrom4([4]byte{8, 8, 8, byte(i)}), 5000), start); err != nil {
			t.Fatal(err)
		}
	}
	mapped := ap("[::ffff:8.8.8.7]:5000")
	v6 := ap("[fe80::1%eth0]:5000")
	if n := testing.AllocsPerRun(100, func() { a.ChannelPeer(0x4007, start) }); n != 0 {
		t.Errorf("ChannelPeer allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { a.PeerChannel(mapped, start) }); n != 0 {
		t.Errorf("PeerChannel allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { a.PeerChannel(v6, start) }); n != 0 {
		t.Errorf("PeerChannel(zoned) allocates %v times, want 0", n)
	}
}

func BenchmarkChannelPeer(b *testing.B) {
	a := &Allocation{}
	for i := range 4 {
		if err := a.BindChannel(0x4000+uint16(i), netip.AddrPortFrom(netip.AddrFrom4([4]byte{8, 8, 8, byte(i)}), 5000), start); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		a.ChannelPeer(0x4003, start)
	}
}

func BenchmarkPeerChannel(b *testing.B) {
	a := &Allocation{}
	for i := range 4 {
		if err := a.BindChannel(0x4000+uint16(i), netip.AddrPortFrom(netip.AddrFrom4([4]byte{8, 8, 8, byte(i)}), 5000), start); err != nil {
			b.Fatal(err)
		}
	}
	peer := ap("8.8.8.3:5000")
	b.ReportAllocs()
	for b.Loop() {
		a.PeerChannel(peer, start)
	}
}
