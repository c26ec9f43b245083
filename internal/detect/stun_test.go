package detect

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/servertest"
)

// loopback is the relay address of the tests.
var loopback = netip.MustParseAddr("127.0.0.1")

func ctxFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestSTUN(t *testing.T) {
	public := netip.MustParseAddrPort("203.0.113.5:40000")
	nat := servertest.NewSTUN(t, public, 0)
	got, source, err := STUN(ctxFor(t, 2*time.Second), loopback, []string{nat.Addr.String()})
	if err != nil || got != public.Addr() || source != "stun "+nat.Addr.String() {
		t.Fatalf("STUN = %v, %q, %v; want %v from stun %s", got, source, err, public.Addr(), nat.Addr)
	}

	// A name resolves to an address of the relay address's family (here
	// from /etc/hosts).
	byName := "localhost:" + strconv.Itoa(int(nat.Addr.Port()))
	if got, source, err := STUN(ctxFor(t, 2*time.Second), loopback, []string{byName}); err != nil || got != public.Addr() || source != "stun "+byName {
		t.Errorf("STUN(%s) = %v, %q, %v; want %v", byName, got, source, err, public.Addr())
	}

	// Without a NAT the server sees the relay address itself.
	plain := servertest.NewSTUN(t, netip.AddrPort{}, 0)
	if got, _, err := STUN(ctxFor(t, 2*time.Second), loopback, []string{plain.Addr.String()}); err != nil || got != loopback {
		t.Errorf("STUN without NAT = %v, %v; want %v", got, err, loopback)
	}
}

func TestSTUNRetransmits(t *testing.T) {
	public := netip.MustParseAddrPort("203.0.113.5:40000")
	lossy := servertest.NewSTUN(t, public, 2)
	got, _, err := STUN(ctxFor(t, 3*time.Second), loopback, []string{lossy.Addr.String()})
	if err != nil || got != public.Addr() {
		t.Fatalf("STUN = %v, %v; want %v after retransmissions", got, err, public.Addr())
	}
	if n := lossy.Requests(); n != 3 {
		t.Errorf("the server got %d requests, want 3 (two lost, one answered)", n)
	}
}

func TestSTUNDisagree(t *testing.T) {
	a := servertest.NewSTUN(t, netip.MustParseAddrPort("203.0.113.5:40000"), 0)
	b := servertest.NewSTUN(t, netip.MustParseAddrPort("198.51.100.9:40000"), 0)
	_, _, err := STUN(ctxFor(t, 2*time.Second), loopback, []string{a.Addr.String(), b.Addr.String()})
	if !errors.Is(err, ErrSTUN) || !strings.Contains(err.Error(), "disagree") ||
		!strings.Contains(err.Error(), "203.0.113.5") || !strings.Contains(err.Error(), "198.51.100.9") {
		t.Fatalf("STUN = %v, want ErrSTUN naming both addresses", err)
	}
}

func TestSTUNAgreeWithSilentServer(t *testing.T) {
	public := netip.MustParseAddrPort("203.0.113.5:40000")
	a := servertest.NewSTUN(t, public, 0)
	silent := servertest.NewSTUN(t, netip.AddrPort{}, -1)
	got, _, err := STUN(ctxFor(t, 800*time.Millisecond), loopback, []string{silent.Addr.String(), a.Addr.String()})
	if err != nil || got != public.Addr() {
		t.Fatalf("STUN = %v, %v; want %v from the server that answered", got, err, public.Addr())
	}
}

func TestSTUNTimeout(t *testing.T) {
	silent := servertest.NewSTUN(t, netip.AddrPort{}, -1)
	start := time.Now()
	_, _, err := STUN(ctxFor(t, 600*time.Millisecond), loopback, []string{silent.Addr.String()})
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("STUN took %v with a 600ms deadline", elapsed)
	}
	if !errors.Is(err, ErrSTUN) || !strings.Contains(err.Error(), "no answer from "+silent.Addr.String()) {
		t.Fatalf("STUN = %v, want ErrSTUN: no answer", err)
	}
	if n := silent.Requests(); n < 2 {
		t.Errorf("the server got %d requests, want retransmissions", n)
	}
}
