package tcprelay

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/avedge/avedge/internal/stunproto"
)

// Registry holds the peer data connections that wait for a ConnectionBind,
// by CONNECTION-ID, with the time each expires (RFC 6062 §5.2, §5.3). It is
// safe for concurrent use: any worker may receive the ConnectionBind. It
// only hands peer connections over; their allocation's state stays with
// its owner.
type Registry struct {
	mu      sync.Mutex
	max     int
	perUser int
	byID    map[stunproto.ConnectionID]pending
	byUser  map[string]int // pending connections per PeerConn.User
}

type pending struct {
	p       *PeerConn
	expires time.Time
}

// NewRegistry returns a Registry of at most limit pending connections,
// at most perUser of them for one user (PeerConn.User), so that one user
// cannot fill it for everyone.
func NewRegistry(limit, perUser int) *Registry {
	return &Registry{
		max: limit, perUser: perUser,
		byID: make(map[stunproto.ConnectionID]pending), byUser: make(map[string]int),
	}
}

// deleteLocked forgets the pending connection id of p. r.mu must be held.
func (r *Registry) deleteLocked(id stunproto.ConnectionID, p *PeerConn) {
	delete(r.byID, id)
	if n := r.byUser[p.User] - 1; n > 0 {
		r.byUser[p.User] = n
	} else {
		delete(r.byUser, p.User)
	}
}

// Add registers p until now plus BindTimeout under a new random
// CONNECTION-ID ("MUST uniquely identify the peer data connection", RFC
// 6062 §5.2), which it stores in p.ID; ErrPendingFull at the limit, or
// at p.User's share of it.
func (r *Registry) Add(p *PeerConn, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.byID) >= r.max || r.byUser[p.User] >= r.perUser {
		return ErrPendingFull
	}
	for {
		// Random, so that an id does not tell how busy the server is
		// nor lets anyone guess the next one.
		id := stunproto.ConnectionID(rand.Uint32())
		if _, taken := r.byID[id]; taken || id == 0 {
			continue
		}
		p.ID = id
		r.byID[id] = pending{p: p, expires: now.Add(BindTimeout)}
		r.byUser[p.User]++
		return nil
	}
}

// Claim takes the unexpired pending connection id for a ConnectionBind by
// username: ErrNoPending without one, ErrOtherCredentials (the connection
// stays pending) for another username.
func (r *Registry) Claim(id stunproto.ConnectionID, username string, now time.Time) (*PeerConn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.byID[id]
	if !ok || !now.Before(e.expires) {
		return nil, ErrNoPending
	}
	if e.p.Username != username {
		return nil, ErrOtherCredentials
	}
	r.deleteLocked(id, e.p)
	return e.p, nil
}

// Control returns the client address of the control connection of the
// allocation whose unexpired pending connection is id, and the username
// that made the allocation.
func (r *Registry) Control(id stunproto.ConnectionID, now time.Time) (ctl netip.AddrPort, username string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.byID[id]
	if !ok || !now.Before(e.expires) {
		return netip.AddrPort{}, "", false
	}
	return e.p.Control, e.p.Username, true
}

// Remove forgets p if it is still pending.
func (r *Registry) Remove(p *PeerConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.byID[p.ID]; ok && e.p == p {
		r.deleteLocked(p.ID, p)
	}
}

// Expire removes the pending connections that expired at now and that
// mine reports true for (those of one owner), and appends them to out.
func (r *Registry) Expire(now time.Time, mine func(*PeerConn) bool, out []*PeerConn) []*PeerConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, e := range r.byID {
		if !now.Before(e.expires) && mine(e.p) {
			r.deleteLocked(id, e.p)
			out = append(out, e.p)
		}
	}
	return out
}
