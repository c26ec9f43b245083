package allocation

import (
	crand "crypto/rand"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"
)

// ReservationHold is how long a reserved relayed transport address waits
// for its token. RFC 8656 §7.2: "The server MUST hold this reservation for at
// least 30 seconds and MAY choose to hold longer".
const ReservationHold = 30 * time.Second

// Token is a RESERVATION-TOKEN value (RFC 8656 §18.10: 8 bytes).
type Token [8]byte

// Reservations holds the relayed transport addresses that Allocate requests
// with EVEN-PORT's R bit set aside for a later Allocate carrying their
// RESERVATION-TOKEN (RFC 8656 §7.2: port N+1 "is assigned a token and
// reserved for a future allocation"). "The reservation is a server-wide
// reservation": the later request may come from any 5-tuple, so the table is
// shared by all workers. It is safe for concurrent use, takes one mutex on the
// control path only, and holds at most a fixed number of entries.
//
// The table only remembers addresses: the caller keeps a reserved port taken
// in its PortPool, hands it to the allocation that claims the token, and
// releases the ports that Expire returns.
type Reservations struct {
	mu      sync.Mutex
	hold    time.Duration
	rnd     io.Reader
	byToken map[Token]reservation
	// queue lists reservations in the order they were made, which is the
	// order they expire in since all are held equally long. Claimed ones
	// stay queued until they would have expired, so the ring bounds the
	// reservations made in the last hold period.
	queue       []queued
	first, size int
}

// reservation is a reserved address and when it expires (Unix nanoseconds).
type reservation struct {
	addr    netip.AddrPort
	expires int64
}

// queued is a ring entry: the token of a reservation and its expiry.
type queued struct {
	token   Token
	expires int64
}

// NewReservations returns an empty table of at most size reservations (at
// least 1) held for hold each (ReservationHold when hold is not positive).
// rnd supplies the tokens; nil means crypto/rand.
func NewReservations(size int, hold time.Duration, rnd io.Reader) *Reservations {
	if hold <= 0 {
		hold = ReservationHold
	}
	if rnd == nil {
		rnd = crand.Reader
	}
	return &Reservations{
		hold:    hold,
		rnd:     rnd,
		byToken: make(map[Token]reservation),
		queue:   make([]queued, max(size, 1)),
	}
}

// Reserve records addr under a new random token until now plus the hold
// time. It returns ErrTooManyReservations when as many reservations as the
// table holds were made within the hold time (call Expire first), or an
// error from the token source.
func (r *Reservations) Reserve(addr netip.AddrPort, now time.Time) (Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.size == len(r.queue) {
		return Token{}, ErrTooManyReservations
	}
	var t Token
	for {
		if _, err := io.ReadFull(r.rnd, t[:]); err != nil {
			return Token{}, fmt.Errorf("allocation: reservation token: %w", err)
		}
		if _, dup := r.byToken[t]; !dup {
			break
		}
	}
	exp := now.Add(r.hold).UnixNano()
	r.byToken[t] = reservation{addr: addr, expires: exp}
	r.queue[(r.first+r.size)%len(r.queue)] = queued{token: t, expires: exp}
	r.size++
	return t, nil
}

// Claim returns the address reserved under t and removes the reservation,
// so a token is good for one allocation. An unknown, used or expired token
// returns ErrNoReservation; an expired reservation stays for Expire to hand
// its address back.
func (r *Reservations) Claim(t Token, now time.Time) (netip.AddrPort, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res, ok := r.byToken[t]
	if !ok || now.UnixNano() >= res.expires {
		return netip.AddrPort{}, ErrNoReservation
	}
	delete(r.byToken, t)
	return res.addr, nil
}

// Expire removes the reservations expired at now and appends their
// addresses to dst, for the caller to release their ports. With enough
// capacity in dst it does not allocate; when nothing has expired it costs
// O(1).
func (r *Reservations) Expire(now time.Time, dst []netip.AddrPort) []netip.AddrPort {
	ns := now.UnixNano()
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.size > 0 && r.queue[r.first].expires <= ns {
		q := r.queue[r.first]
		r.first = (r.first + 1) % len(r.queue)
		r.size--
		// The token may have been claimed (and, by a one-in-2^64 chance,
		// drawn again since): only the reservation queued here goes.
		if res, ok := r.byToken[q.token]; ok && res.expires == q.expires {
			delete(r.byToken, q.token)
			dst = append(dst, res.addr)
		}
	}
	return dst
}

// Len returns the number of unclaimed reservations, expired ones that
// Expire has not removed included.
func (r *Reservations) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byToken)
}
