package allocation

import "sync"

// Quota counts allocations per user and in total, refusing new ones beyond
// the configured limits (RFC 8656 §7.2: 486 Allocation Quota Reached, 508
// Insufficient Capacity). It is safe for concurrent use and keeps no entry
// for users without allocations.
type Quota struct {
	mu      sync.Mutex
	perUser int
	limit   int
	total   int
	users   map[string]int
}

// NewQuota returns a quota allowing perUser allocations per user and total
// allocations overall; a limit of 0 or less means unlimited.
func NewQuota(perUser, total int) *Quota {
	return &Quota{perUser: perUser, limit: total, users: make(map[string]int)}
}

// Acquire counts one more allocation for user. It returns ErrUserQuota if
// the user is at its limit (checked first, as it is the more specific
// answer) and ErrCapacity if the total is.
func (q *Quota) Acquire(user string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.perUser > 0 && q.users[user] >= q.perUser {
		return ErrUserQuota
	}
	if q.limit > 0 && q.total >= q.limit {
		return ErrCapacity
	}
	q.users[user]++
	q.total++
	return nil
}

// Release counts one allocation of user less. Releasing a user with no
// allocations is ignored.
func (q *Quota) Release(user string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.users[user]
	switch {
	case n == 0:
		return
	case n == 1:
		delete(q.users, user)
	default:
		q.users[user] = n - 1
	}
	q.total--
}

// Total returns the number of allocations counted.
func (q *Quota) Total() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.total
}

// User returns the number of allocations counted for user.
func (q *Quota) User(user string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.users[user]
}
