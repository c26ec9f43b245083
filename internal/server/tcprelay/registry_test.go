package tcprelay

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// TestRegistry: a pending connection gets a fresh nonzero id, is claimed
// once by its allocation's username only, names its control connection
// while pending, expires after BindTimeout, and the registry holds at
// most its limit.
func TestRegistry(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	r := NewRegistry(2, 2)
	ctl := netip.MustParseAddrPort("192.0.2.1:4000")
	a := &PeerConn{Username: "alice", Control: ctl}
	b := &PeerConn{Username: "bob"}
	if err := r.Add(a, now); err != nil || a.ID == 0 {
		t.Fatalf("Add: %v, id %d", err, a.ID)
	}
	if err := r.Add(b, now); err != nil || b.ID == a.ID {
		t.Fatalf("Add: %v, id %d beside %d", err, b.ID, a.ID)
	}
	if err := r.Add(&PeerConn{}, now); !errors.Is(err, ErrPendingFull) {
		t.Fatalf("Add over the limit: %v, want ErrPendingFull", err)
	}
	if got, user, ok := r.Control(a.ID, now); !ok || got != ctl || user != a.Username {
		t.Fatalf("Control = %v, %v; want %v", got, ok, ctl)
	}
	if _, err := r.Claim(a.ID, "mallory", now); !errors.Is(err, ErrOtherCredentials) {
		t.Fatalf("Claim with another username: %v", err)
	}
	if p, err := r.Claim(a.ID, "alice", now); err != nil || p != a {
		t.Fatalf("Claim = %v, %v; want a", p, err)
	}
	if _, err := r.Claim(a.ID, "alice", now); !errors.Is(err, ErrNoPending) {
		t.Fatalf("second Claim: %v, want ErrNoPending", err)
	}
	later := now.Add(BindTimeout)
	if _, err := r.Claim(b.ID, "bob", later); !errors.Is(err, ErrNoPending) {
		t.Fatalf("Claim after BindTimeout: %v, want ErrNoPending", err)
	}
	none := r.Expire(later, func(*PeerConn) bool { return false }, nil)
	got := r.Expire(later, func(p *PeerConn) bool { return p == b }, nil)
	if len(none) != 0 || len(got) != 1 || got[0] != b {
		t.Fatalf("Expire: %v for nobody, %v for b's owner; want none and b", none, got)
	}
	c := &PeerConn{}
	if err := r.Add(c, now); err != nil {
		t.Fatalf("Add after expiry: %v", err)
	}
	r.Remove(c)
	if _, _, ok := r.Control(c.ID, now); ok {
		t.Fatal("removed connection still pending")
	}
}

// TestRegistryPerUser: one user holds at most its share of the pending
// connections, whoever else still finds room, and a claimed, removed or
// expired connection gives the user its place back.
func TestRegistryPerUser(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	r := NewRegistry(10, 2)
	var mallory []*PeerConn
	for range 2 {
		p := &PeerConn{Username: "m", User: "mallory"}
		if err := r.Add(p, now); err != nil {
			t.Fatal(err)
		}
		mallory = append(mallory, p)
	}
	if err := r.Add(&PeerConn{User: "mallory"}, now); !errors.Is(err, ErrPendingFull) {
		t.Fatalf("third of mallory's: %v, want ErrPendingFull", err)
	}
	if err := r.Add(&PeerConn{User: "alice"}, now); err != nil {
		t.Fatalf("alice's: %v", err)
	}
	if _, err := r.Claim(mallory[0].ID, "m", now); err != nil {
		t.Fatal(err)
	}
	r.Remove(mallory[1])
	for range 2 {
		if err := r.Add(&PeerConn{User: "mallory"}, now); err != nil {
			t.Fatalf("mallory's after her claim and removal: %v", err)
		}
	}
	r.Expire(now.Add(BindTimeout), func(*PeerConn) bool { return true }, nil)
	for range 2 {
		if err := r.Add(&PeerConn{User: "mallory"}, now); err != nil {
			t.Fatalf("mallory's after expiry: %v", err)
		}
	}
}
