package allocation

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestQuotaLimits(t *testing.T) {
	type step struct {
		release bool
		user    string
		want    error
	}
	tests := []struct {
		name           string
		perUser, total int
		steps          []step
		wantTotal      int
		wantUsers      map[string]int
	}{
		{"per user", 2, 10, []step{
			{false, "a", nil}, {false, "a", nil}, {false, "a", ErrUserQuota}, {false, "b", nil},
		}, 3, map[string]int{"a": 2, "b": 1}},
		{"total", 5, 2, []step{
			{false, "a", nil}, {false, "b", nil}, {false, "c", ErrCapacity},
		}, 2, map[string]int{"a": 1, "b": 1, "c": 0}},
		{"user quota checked first", 1, 1, []step{
			{false, "a", nil}, {false, "a", ErrUserQuota}, {false, "b", ErrCapacity},
		}, 1, map[string]int{"a": 1}},
		{"release frees", 1, 1, []step{
			{false, "a", nil}, {true, "a", nil}, {false, "b", nil},
		}, 1, map[string]int{"a": 0, "b": 1}},
		{"spurious release ignored", 1, 1, []step{
			{true, "a", nil}, {true, "a", nil}, {false, "a", nil}, {false, "b", ErrCapacity},
		}, 1, map[string]int{"a": 1}},
		{"unlimited", 0, 0, []step{
			{false, "a", nil}, {false, "a", nil}, {false, "a", nil},
		}, 3, map[string]int{"a": 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := NewQuota(tt.perUser, tt.total)
			for i, s := range tt.steps {
				if s.release {
					q.Release(s.user, 0)
					continue
				}
				if err := q.Acquire(s.user, 0); !errors.Is(err, s.want) {
					t.Fatalf("step %d: Acquire(%q) = %v, want %v", i, s.user, err, s.want)
				}
			}
			if q.Total() != tt.wantTotal {
				t.Errorf("Total = %d, want %d", q.Total(), tt.wantTotal)
			}
			for u, n := range tt.wantUsers {
				if q.User(u) != n {
					t.Errorf("User(%q) = %d, want %d", u, q.User(u), n)
				}
			}
		})
	}
}

func TestQuotaForgetsIdleUsers(t *testing.T) {
	q := NewQuota(10, 0)
	for range 3 {
		if err := q.Acquire("a", 1); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		q.Release("a", 1)
	}
	if len(q.users) != 0 || q.Total() != 0 {
		t.Fatalf("users map = %v, Total %d; want empty, 0", q.users, q.Total())
	}
}

func TestQuotaConcurrent(t *testing.T) {
	const perUser = 50
	q := NewQuota(perUser, 0)
	var (
		wg sync.WaitGroup
		ok atomic.Int64
	)
	for range 10 {
		wg.Go(func() {
			for range 100 {
				if q.Acquire("alice", 2) == nil {
					ok.Add(1)
				}
				if q.Acquire("bob", 3) == nil {
					q.Release("bob", 3)
				}
			}
		})
	}
	wg.Wait()
	if q.Ports("alice") != 2*perUser || q.Ports("bob") != 0 {
		t.Fatalf("Ports(alice) %d, Ports(bob) %d; want %d, 0", q.Ports("alice"), q.Ports("bob"), 2*perUser)
	}
	if ok.Load() != perUser || q.User("alice") != perUser || q.Total() != perUser || q.User("bob") != 0 {
		t.Fatalf("successes %d, User(alice) %d, Total %d, User(bob) %d; want %d, %d, %d, 0",
			ok.Load(), q.User("alice"), q.Total(), q.User("bob"), perUser, perUser, perUser)
	}
}

// TestQuotaPorts checks the port counts: with allocations and without
// (ReleasePorts), never below zero, and that a user holding only ports
// keeps an entry until they are released.
func TestQuotaPorts(t *testing.T) {
	type step struct {
		op    string // acquire, release, releasePorts
		ports int
	}
	tests := []struct {
		name       string
		steps      []step
		wantPorts  int
		wantAllocs int
		wantEntry  bool
	}{
		{"acquire counts ports", []step{{"acquire", 2}, {"acquire", 1}}, 3, 2, true},
		{"release gives them back", []step{{"acquire", 2}, {"acquire", 1}, {"release", 2}}, 1, 1, true},
		{"reserved port outlives its allocation", []step{{"acquire", 2}, {"release", 1}}, 1, 0, true},
		{"then expires", []step{{"acquire", 2}, {"release", 1}, {"releasePorts", 1}}, 0, 0, false},
		{"partial dual", []step{{"acquire", 2}, {"releasePorts", 1}}, 1, 1, true},
		{"never below zero", []step{{"acquire", 1}, {"releasePorts", 5}}, 0, 1, true},
		{"release without allocation ignored", []step{{"release", 3}}, 0, 0, false},
		{"releasePorts of a stranger ignored", []step{{"releasePorts", 1}}, 0, 0, false},
		{"negative counts nothing", []step{{"acquire", -1}}, 0, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := NewQuota(0, 0)
			for _, s := range tt.steps {
				switch s.op {
				case "acquire":
					if err := q.Acquire("a", s.ports); err != nil {
						t.Fatal(err)
					}
				case "release":
					q.Release("a", s.ports)
				case "releasePorts":
					q.ReleasePorts("a", s.ports)
				}
			}
			_, entry := q.users["a"]
			if q.Ports("a") != tt.wantPorts || q.User("a") != tt.wantAllocs || entry != tt.wantEntry {
				t.Fatalf("Ports %d, User %d, entry %v; want %d, %d, %v",
					q.Ports("a"), q.User("a"), entry, tt.wantPorts, tt.wantAllocs, tt.wantEntry)
			}
		})
	}
}
