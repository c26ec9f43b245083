package detect

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// loopback is the relay address of the tests.
var loopback = netip.MustParseAddr("127.0.0.1")

// responder is a STUN server on loopback that answers Binding requests
// with mapped (or, when unset, the request's source) after dropping the
// first drop requests; silent never answers.
type responder struct {
	addr     netip.AddrPort
	requests atomic.Int32
}

func newResponder(t *testing.T, mapped netip.AddrPort, drop int32, silent bool) *responder {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &responder{addr: c.LocalAddr().(*net.UDPAddr).AddrPort()}
	done := make(chan struct{})
	t.Cleanup(func() { c.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if m.Decode() != nil || m.Type != stun.BindingRequest {
				continue
			}
			if r.requests.Add(1) <= drop || silent {
				continue
			}
			to := mapped
			if !to.IsValid() {
				to = from
			}
			res, err := stun.Build(m, stun.BindingSuccess, &stunproto.XORMappedAddress{Addr: to}, stun.Fingerprint)
			if err == nil {
				_, _ = c.WriteToUDPAddrPort(res.Raw, from)
			}
		}
	}()
	return r
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestSTUN(t *testing.T) {
	public := netip.MustParseAddrPort("203.0.113.5:40000")
	nat := newResponder(t, public, 0, false)
	got, source, err := STUN(ctxFor(t, 2*time.Second), loopback, []string{nat.addr.String()})
	if err != nil || got != public.Addr() || source != "stun "+nat.addr.String() {
		t.Fatalf("STUN = %v, %q, %v; want %v from stun %s", got, source, err, public.Addr(), nat.addr)
	}

	// Without a NAT the server sees the relay address itself.
	plain := newResponder(t, netip.AddrPort{}, 0, false)
	if got, _, err := STUN(ctxFor(t, 2*time.Second), loopback, []string{plain.addr.String()}); err != nil || got != loopback {
		t.Errorf("STUN without NAT = %v, %v; want %v", got, err, loopback)
	}
}

func TestSTUNRetransmits(t *testing.T) {
	public := netip.MustParseAddrPort("203.0.113.5:40000")
	lossy := newResponder(t, public, 2, false)
	got, _, err := STUN(ctxFor(t, 3*time.Second), loopback, []string{lossy.addr.String()})
	if err != nil || got != public.Addr() {
		t.Fatalf("STUN = %v, %v; want %v after retransmissions", got, err, public.Addr())
	}
	if n := lossy.requests.Load(); n != 3 {
		t.Errorf("the server got %d requests, want 3 (two lost, one answered)", n)
	}
}

func TestSTUNDisagree(t *testing.T) {
	a := newResponder(t, netip.MustParseAddrPort("203.0.113.5:40000"), 0, false)
	b := newResponder(t, netip.MustParseAddrPort("198.51.100.9:40000"), 0, false)
	_, _, err := STUN(ctxFor(t, 2*time.Second), loopback, []string{a.addr.String(), b.addr.String()})
	if !errors.Is(err, ErrSTUN) || !strings.Contains(err.Error(), "disagree") ||
		!strings.Contains(err.Error(), "203.0.113.5") || !strings.Contains(err.Error(), "198.51.100.9") {
		t.Fatalf("STUN = %v, want ErrSTUN naming both addresses", err)
	}
}

func TestSTUNAgreeWithSilentServer(t *testing.T) {
	public := netip.MustParseAddrPort("203.0.113.5:40000")
	a := newResponder(t, public, 0, false)
	silent := newResponder(t, netip.AddrPort{}, 0, true)
	got, _, err := STUN(ctxFor(t, 800*time.Millisecond), loopback, []string{silent.addr.String(), a.addr.String()})
	if err != nil || got != public.Addr() {
		t.Fatalf("STUN = %v, %v; want %v from the server that answered", got, err, public.Addr())
	}
}

func TestSTUNTimeout(t *testing.T) {
	silent := newResponder(t, netip.AddrPort{}, 0, true)
	start := time.Now()
	_, _, err := STUN(ctxFor(t, 600*time.Millisecond), loopback, []string{silent.addr.String()})
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("STUN took %v with a 600ms deadline", elapsed)
	}
	if !errors.Is(err, ErrSTUN) || !strings.Contains(err.Error(), "no answer from "+silent.addr.String()) {
		t.Fatalf("STUN = %v, want ErrSTUN: no answer", err)
	}
	if n := silent.requests.Load(); n < 2 {
		t.Errorf("the server got %d requests, want retransmissions", n)
	}
}
