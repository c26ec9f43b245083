package allocation

import (
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Port states in PortPool.pos besides an index into the free list.
const (
	portTaken       = -1
	portQuarantined = -2
)

// PortPool hands out relay ports chosen uniformly at random among the free
// ones, so relayed addresses are hard to guess (RFC 6056 explains why port
// randomisation matters). It is safe for concurrent use.
//
// A port the OS refused to bind can be Quarantined: it then leaves
// circulation until EndQuarantines returns it (another program may have
// held it for a moment only), and Release ignores it meanwhile.
type PortPool struct {
	mu   sync.Mutex
	base int // first port of the range
	rnd  *rand.Rand
	free []uint16 // free ports, in no order
	pos  []int32  // pos[port-base]: index in free, portTaken or portQuarantined
	// held are the quarantined ports with the times their quarantines
	// end, oldest first.
	held []quarantine
}

// quarantine is a port out of circulation until a time.
type quarantine struct {
	port  uint16
	until time.Time
}

// NewPortPool returns a pool of the ports first..last inclusive, all free. rnd
// is the randomness source; nil means a ChaCha8 generator seeded from
// crypto/rand. The pool uses rnd under its own lock, so rnd must not be used
// elsewhere. It returns ErrBadRange unless 1 <= first <= last <= 65535.
func NewPortPool(first, last int, rnd *rand.Rand) (*PortPool, error) {
	if first < 1 || last > 65535 || first > last {
		return nil, fmt.Errorf("%w: %d-%d", ErrBadRange, first, last)
	}
	if rnd == nil {
		var seed [32]byte
		_, _ = crand.Read(seed[:]) // never fails, see crypto/rand.Read
		rnd = rand.New(rand.NewChaCha8(seed))
	}
	n := last - first + 1
	p := &PortPool{base: first, rnd: rnd, free: make([]uint16, n), pos: make([]int32, n)}
	for i := range n {
		p.free[i] = uint16(first + i)
		p.pos[i] = int32(i)
	}
	return p, nil
}

// Take returns a free port chosen uniformly at random, or ErrNoPorts.
func (p *PortPool) Take() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) == 0 {
		return 0, ErrNoPorts
	}
	return p.takeAt(p.rnd.IntN(len(p.free))), nil
}

// TakeEven returns a random free even port whose successor is also free,
// for an RTP/RTCP pair (EVEN-PORT, RFC 8656 §18.7), or ErrNoPorts. Only the
// even port is taken; TakePair takes both.
func (p *PortPool) TakeEven() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, i, ok := p.findEven()
	if !ok {
		return 0, ErrNoPorts
	}
	return p.takeAt(i), nil
}

// findEven looks, from a random point of the free list, for a free even
// port whose successor is also free, and returns it with its index in the
// free list. p.mu must be held.
func (p *PortPool) findEven() (port, i int, ok bool) {
	n := len(p.free)
	if n == 0 {
		return 0, 0, false
	}
	start := p.rnd.IntN(n)
	for k := range n {
		i := (start + k) % n
		port := int(p.free[i])
		if port%2 == 0 && p.isFree(port+1) {
			return port, i, true
		}
	}
	return 0, 0, false
}

// TakePair takes a random free even port N and its successor N+1 together,
// for an RTP/RTCP pair whose second port is reserved (EVEN-PORT with the R
// bit, RFC 8656 §7.2: "the server looks for a pair of port numbers N and N+1
// on the same IP address, where N is even"). It returns N, or ErrNoPorts.
func (p *PortPool) TakePair() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	port, i, ok := p.findEven()
	if !ok {
		return 0, ErrNoPorts
	}
	p.takeAt(i)
	p.takeAt(int(p.pos[port+1-p.base]))
	return port, nil
}

// Release returns a taken port to the pool. Ports outside the pool, already
// free or quarantined are ignored, so a double release is harmless.
func (p *PortPool) Release(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked(port)
}

// releaseLocked is Release; p.mu must be held.
func (p *PortPool) releaseLocked(port int) {
	if !p.inRange(port) || p.pos[port-p.base] != portTaken {
		return
	}
	p.pos[port-p.base] = int32(len(p.free))
	p.free = append(p.free, uint16(port))
}

// Quarantine takes port out of circulation until until, whether it is
// free or taken; use it for a port the OS refused to bind. Ports outside
// the pool, or quarantined already, are ignored. Quarantines end in the
// order they began (EndQuarantines), so until should not precede an
// earlier quarantine's.
func (p *PortPool) Quarantine(port int, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.inRange(port) || p.pos[port-p.base] == portQuarantined {
		return
	}
	if p.isFree(port) {
		p.takeAt(int(p.pos[port-p.base]))
	}
	p.pos[port-p.base] = portQuarantined
	p.held = append(p.held, quarantine{port: uint16(port), until: until})
}

// EndQuarantines returns to the free ports those whose quarantine ended at
// now, and reports how many.
func (p *PortPool) EndQuarantines(now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for n < len(p.held) && !now.Before(p.held[n].until) {
		port := int(p.held[n].port)
		p.pos[port-p.base] = portTaken
		p.releaseLocked(port)
		n++
	}
	p.held = p.held[n:]
	return n
}

// Quarantined returns the number of quarantined ports.
func (p *PortPool) Quarantined() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.held)
}

// Free returns the number of free ports.
func (p *PortPool) Free() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free)
}

// Size returns the number of ports in the pool's range.
func (p *PortPool) Size() int { return len(p.pos) }

// inRange reports whether port belongs to the pool's range.
func (p *PortPool) inRange(port int) bool { return port >= p.base && port-p.base < len(p.pos) }

// isFree reports whether port is in range and free. p.mu must be held.
func (p *PortPool) isFree(port int) bool { return p.inRange(port) && p.pos[port-p.base] >= 0 }

// takeAt removes free[i] from the free list by swapping in the last entry,
// marks it taken and returns it. p.mu must be held.
func (p *PortPool) takeAt(i int) int {
	port := p.free[i]
	last := len(p.free) - 1
	p.free[i] = p.free[last]
	p.pos[int(p.free[i])-p.base] = int32(i)
	p.free = p.free[:last]
	p.pos[int(port)-p.base] = portTaken
	return int(port)
}
