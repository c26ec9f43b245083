package server

import (
	"errors"
	"net/netip"
	"time"

	"github.com/avedge/avedge/internal/datapath"
)

// bindAttempts bounds how many ports an Allocate tries when the OS refuses a
// port of the pool (taken by another program): each refused port leaves the
// pool, so this is not a blind retry loop.
const bindAttempts = 8

// portChoice is how a relayed port is picked (RFC 8656 §7.2).
type portChoice uint8

const (
	// anyPort: any free port.
	anyPort portChoice = iota
	// evenPort: an even port (EVEN-PORT with R=0).
	evenPort
	// evenPair: an even port N, with N+1 taken as well, for the caller to
	// reserve (EVEN-PORT with R=1).
	evenPair
)

var (
	errNoBindablePort   = errors.New("server: no bindable relay port")
	errFamilyNotOffered = errors.New("server: address family not offered")
)

// openRelay takes a port of family fam as choice asks and binds a relay
// socket on it for s. With evenPair the port after it stays taken for the
// caller to reserve; on error nothing is left taken.
func (w *worker) openRelay(s *session, fam int, choice portChoice, df bool) error {
	f := &w.env.families[fam]
	for range bindAttempts {
		var (
			port int
			err  error
		)
		switch choice {
		case anyPort:
			port, err = f.pool.Take()
		case evenPort:
			port, err = f.pool.TakeEven()
		case evenPair:
			port, err = f.pool.TakePair()
		}
		if err != nil {
			return err
		}
		addr := netip.AddrPortFrom(f.addr, uint16(port))
		err = w.bindRelay(s, fam, addr, df)
		if err == nil {
			return nil
		}
		if choice == evenPair {
			f.pool.Release(port + 1)
		}
		w.giveBack(fam, addr, err)
		if !errors.Is(err, datapath.ErrAddrInUse) {
			return err
		}
	}
	return errNoBindablePort
}

// bindRelay binds the relay socket of family fam of s on addr, whose port
// the caller holds, with DF set when df.
func (w *worker) bindRelay(s *session, fam int, addr netip.AddrPort, df bool) error {
	sock, err := w.opener.open(addr, s)
	if err != nil {
		return err
	}
	if df {
		if err := sock.SetDontFragment(true); err != nil {
			w.opener.close(sock)
			return err
		}
	}
	s.relays[fam] = relay{sock: sock, addr: addr, df: df}
	return nil
}

// portQuarantine is how long a relay port that another program held stays
// out of its pool: an outbound socket of the host (a DNS query, an agent's
// connection) holds an ephemeral port for moments, a listener for longer,
// and the port is tried again after this either way.
const portQuarantine = 5 * time.Minute

// giveBack returns the port of addr, which could not be bound with err, to
// the pool of family fam, or takes it out of the pool for portQuarantine
// when another program holds it.
func (w *worker) giveBack(fam int, addr netip.AddrPort, err error) {
	pool := w.env.families[fam].pool
	if errors.Is(err, datapath.ErrAddrInUse) {
		pool.Quarantine(int(addr.Port()), w.env.clock.Now().Add(portQuarantine))
		w.env.log.Warn("relay port in use by another program; out of the pool for a while", "address", addr,
			"for", portQuarantine)
		return
	}
	// Out of file descriptors or memory: the port itself is fine.
	pool.Release(int(addr.Port()))
}

// closeRelays closes the relay sockets of s and returns their ports.
func (w *worker) closeRelays(s *session) {
	for fam := range s.relays {
		w.closeRelay(s, fam)
	}
}

// closeRelay closes the relay socket of family fam of s, if it has one, and
// returns its port.
func (w *worker) closeRelay(s *session, fam int) {
	rl := &s.relays[fam]
	if rl.sock == nil {
		return
	}
	w.offloadRelayClosed(s, rl.addr)
	if t, ok := rl.sock.(*tcpRelay); ok {
		_ = t.Close()
		s.tcp = nil
	} else {
		w.opener.close(rl.sock)
	}
	w.env.release(rl.addr)
	*rl = relay{}
}

// dropFamily deletes the relayed address of family fam from the dual
// allocation of s, with the permissions and channels of that family, and
// keeps the other (RFC 8656 §8.1: "Deleting a single allocation destroys any
// permissions or channels associated with that particular allocation; it
// MUST NOT affect any permissions or channels associated with allocations for
// the other address family").
func (w *worker) dropFamily(s *session, fam int) {
	w.closeRelay(s, fam)
	s.alloc.ForgetFamily(fam == famV4)
	a := s.alloc
	if familyOf(a.Relayed.Addr()) == fam {
		a.Relayed = a.Additional
	}
	a.Additional = netip.AddrPort{}
	w.env.quota.ReleasePorts(s.owner, 1)
	w.allocationChanged(s)
}

// expireReservations hands the ports of expired reservations back to their
// pools. The table is shared: every worker calls this on its tick and before
// taking ports for an Allocate, and whichever comes first releases them, so
// a port is free again within a tick of its 30 seconds ending.
func (w *worker) expireReservations(now time.Time) {
	w.expired = w.env.reservations.Expire(now, w.expired[:0])
	for _, addr := range w.expired {
		w.env.release(addr)
		if owner, ok := w.env.owners.remove(addr); ok {
			w.env.quota.ReleasePorts(owner, 1)
		}
	}
}

// endQuarantines hands back to their pools the relay ports whose
// quarantine ended at now. Every worker calls it on its tick; the pools
// are shared, so whichever comes first returns a port.
func (w *worker) endQuarantines(now time.Time) {
	for _, f := range w.env.families {
		if f.pool != nil {
			f.pool.EndQuarantines(now)
		}
	}
}
