package server

import (
	"net/netip"
	"testing"
)

// TestAuthWaitsPerSource: one source address holds at most
// maxAuthWaitsPerSource places, another source still gets one, and a
// place given back can be taken again.
func TestAuthWaitsPerSource(t *testing.T) {
	a := newAuthWaits()
	defer a.stop()
	one, other := netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.2")
	for i := range maxAuthWaitsPerSource {
		if !a.take(one) {
			t.Fatalf("place %d of one source refused", i)
		}
	}
	if a.take(one) {
		t.Fatalf("a source took more than %d places", maxAuthWaitsPerSource)
	}
	if !a.take(other) {
		t.Fatal("another source was refused while one source is at its limit")
	}
	a.give(one)
	if !a.take(one) {
		t.Fatal("a place given back could not be taken again")
	}
	if n := a.n.Load(); n != maxAuthWaitsPerSource+1 {
		t.Errorf("%d places held, want %d", n, maxAuthWaitsPerSource+1)
	}
}
