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
// control path only, and holds at most a fixed number of entries: a
// reservation leaves the table when it is claimed or when Expire removes it,
// so claiming reservations as fast as they are made never fills it.
//
// The table only remembers addresses: the caller keeps a reserved port taken
// in its PortPool, hands it to the allocation that claims the token, and
// releases the ports that Expire returns.
type Reservations struct {
	mu      sync.Mutex
	hold    time.Duration
	rnd     io.Reader
	max     int
	byToken map[Token]reservation
	// slots hold the reservations in a doubly linked list in the order
	// they were made, which is the order they expire in since all are
	// held equally long; a claimed one is unlinked at once and its slot
	// goes to the free list. slots grows up to max entries.
	slots            []slot
	head, tail, free int // slot indexes; noSlot when none
}

// noSlot marks the end of a slot list.
const noSlot = -1

// reservation is a reserved address and the slot of its list entry.
type reservation struct {
	addr netip.AddrPort
	slot int
}

// slot is a list entry: the token of a reservation, its expiry (Unix
// nanoseconds), and its neighbours (next links the free list too).
type slot struct {
	token      Token
	expires    int64
	prev, next int
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
		max:     max(size, 1),
		byToken: make(map[Token]reservation),
		head:    noSlot,
		tail:    noSlot,
		free:    noSlot,
	}
}

// Reserve records addr under a new random token until now plus the hold
// time. It returns ErrTooManyReservations when the table holds as many
// unclaimed reservations as it may (call Expire first), or an error from
// the token source.
func (r *Reservations) Reserve(addr netip.AddrPort, now time.Time) (Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.byToken) >= r.max {
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
	i := r.free
	if i == noSlot {
		i = len(r.slots)
		r.slots = append(r.slots, slot{})
	} else {
		r.free = r.slots[i].next
	}
	r.slots[i] = slot{token: t, expires: now.Add(r.hold).UnixNano(), prev: r.tail, next: noSlot}
	if r.tail == noSlot {
		r.head = i
	} else {
		r.slots[r.tail].next = i
	}
	r.tail = i
	r.byToken[t] = reservation{addr: addr, slot: i}
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
	if !ok || now.UnixNano() >= r.slots[res.slot].expires {
		return netip.AddrPort{}, ErrNoReservation
	}
	r.remove(t, res.slot)
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
	for r.head != noSlot && r.slots[r.head].expires <= ns {
		t := r.slots[r.head].token
		dst = append(dst, r.byToken[t].addr)
		r.remove(t, r.head)
	}
	return dst
}

// remove drops the reservation of token t, in slot i, from the table and
// its list, and puts the slot on the free list. r.mu must be held.
func (r *Reservations) remove(t Token, i int) {
	delete(r.byToken, t)
	s := r.slots[i]
	if s.prev == noSlot {
		r.head = s.next
	} else {
		r.slots[s.prev].next = s.next
	}
	if s.next == noSlot {
		r.tail = s.prev
	} else {
		r.slots[s.next].prev = s.prev
	}
	r.slots[i] = slot{next: r.free}
	r.free = i
}

// Len returns the number of unclaimed reservations, expired ones that
// Expire has not removed included.
func (r *Reservations) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byToken)
}
