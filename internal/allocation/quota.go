package allocation

import "sync"

// Quota counts allocations and the relay ports they hold, per user and
// (allocations) in total, refusing new allocations beyond the configured
// limits (RFC 8656 §7.2: 486 Allocation Quota Reached, 508 Insufficient
// Capacity). A user's ports are those of its allocations plus any it holds
// without one, such as a reserved port (EVEN-PORT with the R bit) whose
// allocation ended. It is safe for concurrent use and keeps no entry for
// users that hold neither allocations nor ports.
type Quota struct {
	mu      sync.Mutex
	perUser int
	limit   int
	total   int
	users   map[string]userCount
}

// userCount is what one user holds.
type userCount struct{ allocations, ports int }

// NewQuota returns a quota allowing perUser allocations per user and total
// allocations overall; a limit of 0 or less means unlimited. Ports are
// counted, not limited: the caller compares Ports with its own limit.
func NewQuota(perUser, total int) *Quota {
	return &Quota{perUser: perUser, limit: total, users: make(map[string]userCount)}
}

// Acquire counts one more allocation for user, holding ports relay ports
// (0 or more). It returns ErrUserQuota if the user is at its allocation
// limit (checked first, as it is the more specific answer) and ErrCapacity
// if the total is; then nothing is counted.
func (q *Quota) Acquire(user string, ports int) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	u := q.users[user]
	if q.perUser > 0 && u.allocations >= q.perUser {
		return ErrUserQuota
	}
	if q.limit > 0 && q.total >= q.limit {
		return ErrCapacity
	}
	u.allocations++
	u.ports += max(ports, 0)
	q.users[user] = u
	q.total++
	return nil
}

// Release counts one allocation of user less, with the ports relay ports it
// held. Releasing a user with no allocations is ignored.
func (q *Quota) Release(user string, ports int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	u := q.users[user]
	if u.allocations == 0 {
		return
	}
	u.allocations--
	q.total--
	q.set(user, u, ports)
}

// ReleasePorts counts n relay ports of user less, without an allocation:
// a reserved port that expired or was claimed, a relayed address that an
// allocation gave up or never got. A count never goes below zero.
func (q *Quota) ReleasePorts(user string, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.set(user, q.users[user], n)
}

// set stores u for user less ports ports, or forgets user when it holds
// nothing. q.mu must be held.
func (q *Quota) set(user string, u userCount, ports int) {
	u.ports = max(u.ports-max(ports, 0), 0)
	if u == (userCount{}) {
		delete(q.users, user)
		return
	}
	q.users[user] = u
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
	return q.users[user].allocations
}

// Ports returns the number of relay ports counted for user.
func (q *Quota) Ports(user string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.users[user].ports
}
