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
					q.Release(s.user)
					continue
				}
				if err := q.Acquire(s.user); !errors.Is(err, s.want) {
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
		if err := q.Acquire("a"); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		q.Release("a")
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
				if q.Acquire("alice") == nil {
					ok.Add(1)
				}
				if q.Acquire("bob") == nil {
					q.Release("bob")
				}
			}
		})
	}
	wg.Wait()
	if ok.Load() != perUser || q.User("alice") != perUser || q.Total() != perUser || q.User("bob") != 0 {
		t.Fatalf("successes %d, User(alice) %d, Total %d, User(bob) %d; want %d, %d, %d, 0",
			ok.Load(), q.User("alice"), q.Total(), q.User("bob"), perUser, perUser, perUser)
	}
}
