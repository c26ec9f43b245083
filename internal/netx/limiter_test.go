package netx

import (
	"errors"
	"net/netip"
	"testing"
)

// TestLimiterAdmit: the per-source limit refuses a third connection of
// one address (an IPv4-mapped address counting as its IPv4 address)
// while another address gets in; the total limit then refuses any; each
// refusal is counted under its cause, and a release, even repeated, frees
// one place.
func TestLimiterAdmit(t *testing.T) {
	l, err := NewLimiter(3, 2)
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("2001:db8::1")
	rel1, err := l.Admit(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Admit(netip.MustParseAddr("::ffff:192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Admit(a); !errors.Is(err, ErrSourceLimit) {
		t.Fatalf("third from %v: %v, want ErrSourceLimit", a, err)
	}
	if _, err := l.Admit(b); err != nil {
		t.Fatalf("first from %v: %v", b, err)
	}
	if _, err := l.Admit(netip.MustParseAddr("198.51.100.7")); !errors.Is(err, ErrTotalLimit) {
		t.Fatalf("fourth in all: %v, want ErrTotalLimit", err)
	}
	want := LimitStats{Open: 3, Admitted: 3, RefusedTotal: 1, RefusedPerSource: 1}
	if st := l.Stats(); st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	rel1()
	rel1()
	if st := l.Stats(); st.Open != 2 {
		t.Fatalf("open %d after one release called twice, want 2", st.Open)
	}
	if _, err := l.Admit(a); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	if _, err := l.Admit(a); !errors.Is(err, ErrTotalLimit) {
		t.Fatalf("full again: %v, want ErrTotalLimit", err)
	}
}

// TestNewLimiterBad: limits below 1 are refused.
func TestNewLimiterBad(t *testing.T) {
	for _, l := range [][2]int{{0, 1}, {1, 0}, {-1, 5}} {
		if _, err := NewLimiter(l[0], l[1]); !errors.Is(err, ErrBadLimits) {
			t.Errorf("NewLimiter(%d, %d): %v, want ErrBadLimits", l[0], l[1], err)
		}
	}
}

// TestLimiterIPv6Per64: IPv6 sources count per /64, IPv4 ones per
// address: 64 addresses of one /64 share one budget of 64, and a 65th
// address of that /64 is refused while the neighbouring /64 and each
// IPv4 address have budgets of their own.
func TestLimiterIPv6Per64(t *testing.T) {
	l, err := NewLimiter(1000, 64)
	if err != nil {
		t.Fatal(err)
	}
	var releases []func()
	for i := range 64 {
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, byte(i), 0xff, 0, 0, 0, 0, 0, byte(i)})
		rel, err := l.Admit(a)
		if err != nil {
			t.Fatalf("address %d of the /64 (%v): %v", i, a, err)
		}
		releases = append(releases, rel)
	}
	if _, err := l.Admit(netip.MustParseAddr("2001:db8:1:2:dead:beef:1:2")); !errors.Is(err, ErrSourceLimit) {
		t.Fatalf("65th address of one /64: %v, want ErrSourceLimit", err)
	}
	if _, err := l.Admit(netip.MustParseAddr("2001:db8:1:3::1")); err != nil {
		t.Fatalf("the next /64: %v", err)
	}
	for i := range 65 {
		a := netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
		if _, err := l.Admit(a); err != nil {
			t.Fatalf("IPv4 %v: %v", a, err)
		}
	}
	releases[0]()
	if _, err := l.Admit(netip.MustParseAddr("2001:db8:1:2::99%eth0")); err != nil {
		t.Fatalf("after a release in the /64: %v", err)
	}
	if st := l.Stats(); st.RefusedPerSource != 1 || st.Open != 64+1+65 {
		t.Fatalf("stats %+v", st)
	}
}

// TestSource: what addresses count as.
func TestSource(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":               "192.0.2.7/32",
		"::ffff:192.0.2.7":        "192.0.2.7/32",
		"2001:db8:1:2:3:4:5:6":    "2001:db8:1:2::/64",
		"fe80::1%eth0":            "fe80::/64",
		"2001:db8:1:2:ffff::ffff": "2001:db8:1:2::/64",
	} {
		if got := Source(netip.MustParseAddr(in)); got.String() != want {
			t.Errorf("Source(%s) = %v, want %s", in, got, want)
		}
	}
	if got := Source(netip.Addr{}); got.IsValid() {
		t.Errorf("Source of the zero Addr = %v, want the zero Prefix", got)
	}
}
