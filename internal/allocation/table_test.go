package allocation

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// newAlloc returns an allocation for tuple(i) expiring lifetime after now.
func newAlloc(i int, lifetime time.Duration, now time.Time) *Allocation {
	a := &Allocation{FiveTuple: tuple(i), Username: "user"}
	a.Refresh(lifetime, now)
	return a
}

func TestTableInsertGetDelete(t *testing.T) {
	tb := NewTable(DefaultConfig())
	a := newAlloc(1, time.Minute, start)
	if err := tb.Insert(a); err != nil {
		t.Fatal(err)
	}
	dup := newAlloc(1, time.Minute, start)
	if err := tb.Insert(dup); !errors.Is(err, ErrExists) {
		t.Fatalf("Insert of a used 5-tuple = %v, want ErrExists", err)
	}
	other := NewTable(DefaultConfig())
	if err := other.Insert(a); !errors.Is(err, ErrExists) {
		t.Fatalf("Insert into a second table = %v, want ErrExists", err)
	}
	tcp := tuple(1)
	tcp.Proto = TCP
	b := &Allocation{FiveTuple: tcp}
	b.Refresh(time.Minute, start)
	if err := tb.Insert(b); err != nil {
		t.Fatalf("Insert with another protocol: %v", err)
	}
	if got := tb.Get(tuple(1)); got != a {
		t.Fatalf("Get = %p, want %p", got, a)
	}
	if got := tb.Get(tcp); got != b {
		t.Fatalf("Get(tcp) = %p, want %p", got, b)
	}
	if got := tb.Get(tuple(2)); got != nil {
		t.Fatalf("Get of unknown = %p, want nil", got)
	}
	if tb.Len() != 2 {
		t.Fatalf("Len = %d, want 2", tb.Len())
	}
	tb.Delete(tuple(1))
	tb.Delete(tuple(1)) // no-op
	tb.Delete(tuple(3)) // unknown: no-op
	if tb.Get(tuple(1)) != nil || tb.Len() != 1 {
		t.Fatalf("after Delete: Get = %p, Len = %d", tb.Get(tuple(1)), tb.Len())
	}
	if err := tb.Insert(a); err != nil {
		t.Fatalf("re-Insert after Delete: %v", err)
	}
}

func TestInsertAppliesTableConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PermissionLifetime = 10 * time.Second
	tb := NewTable(cfg)
	a := newAlloc(1, time.Hour, start)
	if err := tb.Insert(a); err != nil {
		t.Fatal(err)
	}
	if err := a.AddPermission(ip("8.8.8.8"), start); err != nil {
		t.Fatal(err)
	}
	if a.HasPermission(ip("8.8.8.8"), start.Add(10*time.Second)) {
		t.Fatal("permission outlived the table's PermissionLifetime")
	}
}

func TestAllocationLifetime(t *testing.T) {
	clk := newClock()
	a := newAlloc(1, 600*time.Second, clk.Now())
	if got, want := a.Expires(), start.Add(600*time.Second); !got.Equal(want) {
		t.Fatalf("Expires = %v, want %v", got, want)
	}
	steps := []struct {
		advance time.Duration
		refresh time.Duration // applied after the check when > 0
		want    bool
	}{
		{599 * time.Second, 0, false},
		{time.Second, 0, true},
		{0, 3600 * time.Second, true}, // checked before refresh
		{3599 * time.Second, 0, false},
		{0, 600 * time.Second, false}, // shortening refresh
		{600 * time.Second, 0, true},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		if got := a.Expired(clk.Now()); got != s.want {
			t.Fatalf("step %d: Expired = %v, want %v", i, got, s.want)
		}
		if s.refresh > 0 {
			a.Refresh(s.refresh, clk.Now())
		}
	}
	a.Refresh(0, clk.Now())
	if !a.Expired(clk.Now()) {
		t.Fatal("Refresh(0) did not expire the allocation")
	}
}

func TestExpireCallsOncePerExpired(t *testing.T) {
	clk := newClock()
	tb := NewTable(DefaultConfig())
	lifetimes := []time.Duration{600 * time.Second, 1200 * time.Second, 600 * time.Second, 3600 * time.Second, 900 * time.Second}
	for i, l := range lifetimes {
		if err := tb.Insert(newAlloc(i, l, clk.Now())); err != nil {
			t.Fatal(err)
		}
	}
	tb.Get(tuple(2)).Refresh(1500*time.Second, clk.Now()) // extended past 1200 s
	tb.Get(tuple(3)).Refresh(700*time.Second, clk.Now())  // shortened to 700 s
	tb.Delete(tuple(4))                                   // deleted: never reported
	steps := []struct {
		advance time.Duration
		want    []int
	}{
		{599 * time.Second, nil},
		{time.Second, []int{0}},
		{0, nil},
		{100 * time.Second, []int{3}},
		{500 * time.Second, []int{1}},
		{300 * time.Second, []int{2}},
		{3600 * time.Second, nil},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		var got []int
		tb.Expire(clk.Now(), func(a *Allocation) {
			if tb.Get(a.FiveTuple) != nil {
				t.Errorf("step %d: fn called before removal", i)
			}
			for j := range lifetimes {
				if a.FiveTuple == tuple(j) {
					got = append(got, j)
				}
			}
		})
		if fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Fatalf("step %d (+%v): expired %v, want %v", i, s.advance, got, s.want)
		}
	}
	if tb.Len() != 0 {
		t.Fatalf("Len = %d after all expired, want 0", tb.Len())
	}
	tb.Expire(clk.Now(), nil) // nil fn and empty table are fine
}

func TestExpirePrunesOthers(t *testing.T) {
	clk := newClock()
	tb := NewTable(DefaultConfig())
	a := newAlloc(1, time.Hour, clk.Now())
	if err := tb.Insert(a); err != nil {
		t.Fatal(err)
	}
	if err := a.AddPermission(ip("8.8.8.8"), clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(300 * time.Second)
	tb.Expire(clk.Now(), nil)
	if a.perms != nil {
		t.Fatalf("Expire did not prune the expired permission: %v", a.perms)
	}
}

// TestTableModel drives a table with random operations and checks it
// against a brute-force model.
func TestTableModel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	clk := newClock()
	tb := NewTable(DefaultConfig())
	model := map[FiveTuple]*Allocation{}
	for step := range 20000 {
		i := rnd.IntN(200)
		ft := tuple(i)
		switch op := rnd.IntN(10); {
		case op < 4:
			a := newAlloc(i, time.Duration(1+rnd.IntN(3600))*time.Second, clk.Now())
			err := tb.Insert(a)
			if _, ok := model[ft]; ok != errors.Is(err, ErrExists) {
				t.Fatalf("step %d: Insert = %v, model has it: %v", step, err, ok)
			}
			if err == nil {
				model[ft] = a
			}
		case op < 6:
			if a := tb.Get(ft); a != nil {
				a.Refresh(time.Duration(rnd.IntN(3600))*time.Second, clk.Now())
			}
		case op < 7:
			tb.Delete(ft)
			delete(model, ft)
		default:
			clk.Advance(time.Duration(rnd.IntN(30)) * time.Second)
			now := clk.Now()
			want := map[*Allocation]bool{}
			for k, a := range model {
				if a.Expired(now) {
					want[a] = true
					delete(model, k)
				}
			}
			tb.Expire(now, func(a *Allocation) {
				if !want[a] {
					t.Fatalf("step %d: Expire reported %v unexpectedly or twice", step, a.FiveTuple)
				}
				delete(want, a)
			})
			if len(want) != 0 {
				t.Fatalf("step %d: Expire missed %d allocations", step, len(want))
			}
		}
		if tb.Len() != len(model) {
			t.Fatalf("step %d: Len = %d, model %d", step, tb.Len(), len(model))
		}
	}
}

func TestRange(t *testing.T) {
	tb := NewTable(DefaultConfig())
	for i := range 10 {
		if err := tb.Insert(newAlloc(i, time.Minute, start)); err != nil {
			t.Fatal(err)
		}
	}
	seen := 0
	tb.Range(func(a *Allocation) bool {
		seen++
		tb.Delete(a.FiveTuple)
		return true
	})
	if seen != 10 || tb.Len() != 0 {
		t.Fatalf("Range deleting all: seen %d, Len %d; want 10, 0", seen, tb.Len())
	}
	for i := range 10 {
		if err := tb.Insert(newAlloc(i, time.Minute, start)); err != nil {
			t.Fatal(err)
		}
	}
	seen = 0
	tb.Range(func(*Allocation) bool { seen++; return seen < 3 })
	if seen != 3 {
		t.Fatalf("Range stopping early visited %d, want 3", seen)
	}
}

func TestGetDoesNotAllocate(t *testing.T) {
	tb := NewTable(DefaultConfig())
	for i := range 1000 {
		if err := tb.Insert(newAlloc(i, time.Minute, start)); err != nil {
			t.Fatal(err)
		}
	}
	hit, miss := tuple(500), tuple(5000)
	v6 := FiveTuple{Client: ap("[2001:db8::1]:5000"), Server: ap("[2001:db8::2]:3478"), Proto: UDP}
	for _, ft := range []FiveTuple{hit, miss, v6} {
		if n := testing.AllocsPerRun(100, func() { tb.Get(ft) }); n != 0 {
			t.Errorf("Get(%v) allocates %v times, want 0", ft, n)
		}
	}
}

// TestMemoryPerAllocation measures heap bytes per allocation in a table,
// each with one permission and one channel binding.
func TestMemoryPerAllocation(t *testing.T) {
	const n = 10000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tb := NewTable(DefaultConfig())
	for i := range n {
		a := &Allocation{
			FiveTuple: tuple(i),
			Relayed:   netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, 1}), uint16(50000+i%10000)),
			Username:  fmt.Sprintf("%d:user%d", 1_700_000_000+i, i),
		}
		a.Refresh(600*time.Second, start)
		if err := tb.Insert(a); err != nil {
			t.Fatal(err)
		}
		peer := netip.AddrPortFrom(netip.AddrFrom4([4]byte{8, 8, byte(i >> 8), byte(i)}), 5000)
		if err := a.BindChannel(0x4000, peer, start); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	t.Logf("%.0f bytes per allocation (%d allocations, 1 permission + 1 channel each)", per, n)
	if per >= 2048 {
		t.Errorf("%.0f bytes per allocation, want < 2048", per)
	}
	runtime.KeepAlive(tb)
}

func BenchmarkTableGet(b *testing.B) {
	tb := NewTable(DefaultConfig())
	for i := range 10000 {
		if err := tb.Insert(newAlloc(i, time.Minute, start)); err != nil {
			b.Fatal(err)
		}
	}
	ft := tuple(5000)
	b.ReportAllocs()
	for b.Loop() {
		tb.Get(ft)
	}
}

func BenchmarkExpireIdle(b *testing.B) {
	tb := NewTable(DefaultConfig())
	for i := range 100000 {
		if err := tb.Insert(newAlloc(i, time.Hour, start)); err != nil {
			b.Fatal(err)
		}
	}
	now := start.Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		tb.Expire(now, nil)
	}
}
