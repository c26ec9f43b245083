package policy

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/clock"
)

func newLimiter(t testing.TB, lim SourceLimit, entries int) (*SourceLimiter, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	l, err := NewSourceLimiter(lim, entries, clk)
	if err != nil {
		t.Fatal(err)
	}
	return l, clk
}

// capacity returns the number of sources l can hold.
func capacity(l *SourceLimiter) int { return len(l.slots) }

// allowed counts the checks of src that Allow lets through out of n.
func allowed(l *SourceLimiter, src netip.Addr, n int) int {
	ok := 0
	for range n {
		if l.Allow(src) {
			ok++
		}
	}
	return ok
}

func TestSourceLimiterBurstThenRefill(t *testing.T) {
	l, clk := newLimiter(t, SourceLimit{Rate: 2, Burst: 3}, 64)
	src := netip.MustParseAddr("192.0.2.1")
	steps := []struct {
		advance time.Duration
		tries   int
		want    int
	}{
		{0, 10, 3},                      // the burst, then nothing
		{499 * time.Millisecond, 1, 0},  // 0.998 tokens: not yet one
		{1 * time.Millisecond, 3, 1},    // one token after 500 ms at 2/s
		{1250 * time.Millisecond, 5, 2}, // 2.5 tokens: two whole ones
		{time.Hour, 10, 3},              // refill stops at the burst
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		if got := allowed(l, src, s.tries); got != s.want {
			t.Errorf("step %d: after +%v, %d of %d allowed, want %d", i, s.advance, got, s.tries, s.want)
		}
	}
}

func TestSourceLimiterClockBackwards(t *testing.T) {
	clk := &steppedClock{now: time.Unix(1_700_000_000, 0)}
	l, err := NewSourceLimiter(SourceLimit{Rate: 1, Burst: 1}, 16, clk)
	if err != nil {
		t.Fatal(err)
	}
	src := netip.MustParseAddr("192.0.2.1")
	if !l.Allow(src) {
		t.Fatal("first check refused")
	}
	clk.now = clk.now.Add(-time.Hour)
	if l.Allow(src) {
		t.Error("a clock stepping back refilled the bucket")
	}
}

// steppedClock is a clock a test sets, backwards too.
type steppedClock struct{ now time.Time }

func (c *steppedClock) Now() time.Time { return c.now }

func TestSourceLimiterKeys(t *testing.T) {
	tests := []struct {
		name  string
		first string // exhausts its bucket
		other string
		same  bool // other shares first's bucket
	}{
		{"IPv4 other host", "192.0.2.1", "192.0.2.2", false},
		{"IPv4-mapped is IPv4", "192.0.2.1", "::ffff:192.0.2.1", true},
		{"IPv4 then mapped form", "::ffff:198.51.100.7", "198.51.100.7", true},
		{"IPv6 same /64", "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true},
		{"IPv6 next /64", "2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"IPv6 /64 with IPv4 bits is not IPv4", "0.0.0.1", "::1", false},
		{"IPv6 zone ignored", "fe80::1%eth0", "fe80::2%eth1", true},
		{"zero Addr is 0.0.0.0", "invalid", "0.0.0.0", true},
	}
	parse := func(s string) netip.Addr {
		if s == "invalid" {
			return netip.Addr{}
		}
		return netip.MustParseAddr(s)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newLimiter(t, SourceLimit{Rate: 1, Burst: 2}, 1024)
			if got := allowed(l, parse(tt.first), 5); got != 2 {
				t.Fatalf("first source: %d allowed, want 2", got)
			}
			want := 2
			if tt.same {
				want = 0
			}
			if got := allowed(l, parse(tt.other), 5); got != want {
				t.Errorf("%s after %s: %d allowed, want %d", tt.other, tt.first, got, want)
			}
		})
	}
}

// randomSource returns the IPv4 or IPv6 source number i of a flood.
func randomSource(i int) netip.Addr {
	if i%2 == 0 {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], uint32(i)*2654435761)
		return netip.AddrFrom4(a)
	}
	var a [16]byte
	binary.BigEndian.PutUint64(a[:8], 0x2001_0db8_0000_0000|uint64(i))
	a[15] = 1
	return netip.AddrFrom16(a)
}

// TestSourceLimiterFloodBounded: a million distinct sources neither grow
// the table nor allocate, and a source that keeps sending keeps its
// exhausted bucket through the flood (it is not evicted back to a full
// burst).
func TestSourceLimiterFloodBounded(t *testing.T) {
	const entries, flood = 65536, 1_000_000
	l, clk := newLimiter(t, SourceLimit{Rate: 0.001, Burst: 5}, entries)
	if capacity(l) != entries {
		t.Fatalf("capacity = %d, want %d", capacity(l), entries)
	}
	attacker := netip.MustParseAddr("203.0.113.9")
	if got := allowed(l, attacker, 10); got != 5 {
		t.Fatalf("attacker: %d allowed, want 5", got)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	attackerAllowed := 0
	for i := range flood {
		clk.Advance(time.Microsecond)
		if !l.Allow(randomSource(i)) {
			t.Fatalf("new source %v refused", randomSource(i))
		}
		if i%64 == 0 && l.Allow(attacker) {
			attackerAllowed++
		}
	}
	runtime.ReadMemStats(&after)
	if attackerAllowed != 0 {
		t.Errorf("the limited source got %d answers during the flood: evicted", attackerAllowed)
	}
	if capacity(l) != entries {
		t.Errorf("capacity = %d after the flood, want %d", capacity(l), entries)
	}
	// The test itself allocates nothing per iteration; allow for the
	// runtime's and the testing package's background allocations.
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 64<<10 {
		t.Errorf("the flood allocated %d bytes", grown)
	}
}

func TestSourceLimiterAllocs(t *testing.T) {
	l, clk := newLimiter(t, SourceLimit{Rate: 10, Burst: 20}, 1024)
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	i := 0
	if n := testing.AllocsPerRun(1000, func() {
		i++
		clk.Advance(time.Millisecond)
		l.Allow(v4)
		l.Allow(v6)
		l.Allow(randomSource(i))
	}); n != 0 {
		t.Errorf("Allow allocates %v times per run", n)
	}
}

func TestNewSourceLimiterErrors(t *testing.T) {
	tests := []struct {
		name    string
		lim     SourceLimit
		entries int
	}{
		{"zero rate", SourceLimit{Rate: 0, Burst: 1}, 16},
		{"negative rate", SourceLimit{Rate: -1, Burst: 1}, 16},
		{"huge rate", SourceLimit{Rate: 2e9, Burst: 1}, 16},
		{"zero burst", SourceLimit{Rate: 1, Burst: 0}, 16},
		{"no entries", SourceLimit{Rate: 1, Burst: 1}, 0},
		{"too many entries", SourceLimit{Rate: 1, Burst: 1}, 1<<24 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewSourceLimiter(tt.lim, tt.entries, nil); !errors.Is(err, ErrBadSourceLimit) {
				t.Errorf("err = %v, want ErrBadSourceLimit", err)
			}
		})
	}
}

func TestSourceLimiterEntriesRounded(t *testing.T) {
	for _, tt := range []struct{ entries, want int }{{1, 4}, {4, 4}, {5, 8}, {65536, 65536}, {65537, 131072}} {
		l, _ := newLimiter(t, SourceLimit{Rate: 1, Burst: 1}, tt.entries)
		if capacity(l) != tt.want {
			t.Errorf("NewSourceLimiter(%d entries) holds %d sources, want %d", tt.entries, capacity(l), tt.want)
		}
	}
}

func TestSourceLimitEnabled(t *testing.T) {
	if (SourceLimit{}).Enabled() {
		t.Error("zero SourceLimit enabled")
	}
	if !(SourceLimit{Rate: 1, Burst: 1}).Enabled() {
		t.Error("SourceLimit{1, 1} disabled")
	}
}

func BenchmarkSourceLimiterAllow(b *testing.B) {
	l, err := NewSourceLimiter(SourceLimit{Rate: 10, Burst: 20}, 65536, nil)
	if err != nil {
		b.Fatal(err)
	}
	src := netip.MustParseAddr("2001:db8::1")
	for b.Loop() {
		l.Allow(src)
	}
}
