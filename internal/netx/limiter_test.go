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
