package server

import (
	"net/netip"
	"sync"

	"github.com/avedge/avedge/internal/allocation"
)

// reservationOwners remembers whose port quota each reserved port (EVEN-PORT
// with the R bit) counts against: the reservation outlives the allocation
// that made it, and its port is counted until the token is claimed or the
// reservation expires. It is shared by the workers and used on the control
// path only.
type reservationOwners struct {
	mu      sync.Mutex
	byToken map[allocation.Token]reservedPort
	byAddr  map[netip.AddrPort]allocation.Token
}

// reservedPort is a reservation's address and the owner it counts against.
type reservedPort struct {
	addr  netip.AddrPort
	owner string
}

func newReservationOwners() *reservationOwners {
	return &reservationOwners{
		byToken: make(map[allocation.Token]reservedPort),
		byAddr:  make(map[netip.AddrPort]allocation.Token),
	}
}

// add records that the port of addr, reserved under tok, counts against
// owner.
func (o *reservationOwners) add(tok allocation.Token, addr netip.AddrPort, owner string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.byToken[tok] = reservedPort{addr: addr, owner: owner}
	o.byAddr[addr] = tok
}

// ownerOf returns the owner of the reservation under tok, if it is held.
func (o *reservationOwners) ownerOf(tok allocation.Token) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.byToken[tok]
	return r.owner, ok
}

// remove forgets the reservation of addr (claimed or expired) and returns
// its owner.
func (o *reservationOwners) remove(addr netip.AddrPort) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	tok, ok := o.byAddr[addr]
	if !ok {
		return "", false
	}
	owner := o.byToken[tok].owner
	delete(o.byAddr, addr)
	delete(o.byToken, tok)
	return owner, true
}
