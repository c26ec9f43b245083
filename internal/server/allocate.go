package server

import (
	"errors"
	"net/netip"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/stunproto"
)

// bindAttempts bounds how many ports an Allocate tries when the OS refuses a
// port of the pool (taken by another program): each refused port leaves the
// pool, so this is not a blind retry loop.
const bindAttempts = 8

// allocate implements RFC 8656 §7.2 "Receiving an Allocate Request" for UDP
// relays. Authentication (step 1) is done by the caller.
func (w *worker) allocate(r *request) {
	m := r.m
	// Step 2: "checks if the 5-tuple is currently in use by an existing
	// allocation. If yes, the server rejects the request with a 437". A
	// retransmission of the request that created it (same transaction ID)
	// gets the success response again (RFC 8656 §7.2, last paragraph).
	if s := w.lookup(r.l, r.ft.Client); s != nil {
		if s.alloc.Expired(r.now) {
			// Expired, but the tick has not reaped it yet: it is gone.
			w.closeSession(s, "expired")
		} else {
			if s.alloc.TxID == m.TransactionID && s.alloc.Username == r.auth.Username {
				w.allocateSuccess(r, s)
				return
			}
			w.fail(r, stun.CodeAllocMismatch)
			return
		}
	}
	// Step 3: REQUESTED-TRANSPORT must be present (400) and supported (442).
	var transport stunproto.RequestedTransport
	if err := transport.GetFrom(m); err != nil {
		w.fail(r, stun.CodeBadRequest)
		return
	}
	if transport.Protocol != stunproto.ProtoUDP {
		w.fail(r, stun.CodeUnsupportedTransProto)
		return
	}
	// Step 4 (DONT-FRAGMENT) is handled as an unknown attribute by the
	// caller. Step 5: a RESERVATION-TOKEN with EVEN-PORT or an address family
	// attribute is a 400; otherwise the token must name a reservation, and
	// this server holds none, so it is "not valid" → 508.
	if m.Contains(stun.AttrReservationToken) {
		if m.Contains(stun.AttrEvenPort) || m.Contains(stun.AttrRequestedAddressFamily) ||
			m.Contains(stunproto.AttrAdditionalAddressFamily) {
			w.fail(r, stun.CodeBadRequest)
			return
		}
		w.fail(r, stun.CodeInsufficientCapacity)
		return
	}
	// Step 6: REQUESTED-ADDRESS-FAMILY (RFC 6156 §4.2): only IPv4 relayed
	// addresses are offered, so IPv6 gets 440.
	if m.Contains(stun.AttrRequestedAddressFamily) {
		if m.Contains(stunproto.AttrAdditionalAddressFamily) {
			w.fail(r, stun.CodeBadRequest)
			return
		}
		var fam stunproto.RequestedAddressFamily
		if err := fam.GetFrom(m); err != nil {
			w.fail(r, stun.CodeBadRequest)
			return
		}
		if uint8(fam) != stunproto.FamilyIPv4 {
			w.fail(r, stun.CodeAddrFamilyNotSupported)
			return
		}
	}
	// Step 7: EVEN-PORT. With R=0 the relayed port must be even; a
	// reservation of the next port (R=1) needs RESERVATION-TOKEN support,
	// which this server does not offer yet, so it cannot satisfy it → 508.
	even := false
	if m.Contains(stun.AttrEvenPort) {
		var ep stunproto.EvenPort
		if err := ep.GetFrom(m); err != nil {
			w.fail(r, stun.CodeBadRequest)
			return
		}
		if ep.ReservePort {
			w.fail(r, stun.CodeInsufficientCapacity)
			return
		}
		even = true
	}
	// Step 8: quotas: 486 per user, 508 for the whole server.
	owner := quotaOwner(r.auth)
	if err := w.env.quota.Acquire(owner); err != nil {
		if errors.Is(err, allocation.ErrUserQuota) {
			w.fail(r, stun.CodeAllocQuotaReached)
		} else {
			w.fail(r, stun.CodeInsufficientCapacity)
		}
		return
	}
	s, err := w.openSession(r, even, owner)
	if err != nil {
		w.env.quota.Release(owner)
		w.env.log.Warn("allocate: no relay port", "client", r.ft.Client, "err", err)
		w.fail(r, stun.CodeInsufficientCapacity)
		return
	}
	w.c.allocations.Add(1)
	w.env.log.Debug("allocation created", "client", r.ft.Client, "relayed", s.alloc.Relayed,
		"user", r.auth.Identity, "lifetime", s.alloc.Expires().Sub(r.now))
	w.allocateSuccess(r, s)
}

// openSession takes a relay port from the pool, binds it and records the
// allocation.
func (w *worker) openSession(r *request, even bool, owner string) (*session, error) {
	var lifetime stunproto.Lifetime
	present := lifetime.GetFrom(r.m) == nil
	a := &allocation.Allocation{
		FiveTuple: r.ft,
		Username:  r.auth.Username,
		TxID:      r.m.TransactionID,
	}
	a.Refresh(w.env.alloc.Lifetime(lifetime.Duration, present), r.now)
	s := &session{alloc: a, client: r.l, owner: owner}
	a.Relay = s
	for range bindAttempts {
		take := w.env.pool.Take
		if even {
			take = w.env.pool.TakeEven
		}
		port, err := take()
		if err != nil {
			return nil, err
		}
		addr := netip.AddrPortFrom(w.env.relayAddr, uint16(port))
		sock, err := w.relays.open(addr, s)
		if errors.Is(err, datapath.ErrAddrInUse) {
			// Another program holds the port: take it out of the pool.
			w.env.pool.Quarantine(port)
			w.env.log.Warn("relay port in use by another program; taken out of the pool", "port", port)
			continue
		}
		if err != nil {
			// Out of file descriptors or memory: the port itself is fine.
			w.env.pool.Release(port)
			return nil, err
		}
		s.relay, s.port, a.Relayed = sock, port, addr
		if err := w.table.Insert(a); err != nil {
			w.relays.close(s)
			w.env.pool.Release(port)
			return nil, err
		}
		return s, nil
	}
	return nil, errNoBindablePort
}

var errNoBindablePort = errors.New("server: no bindable relay port")

// quotaOwner names whom an allocation counts against: the identity of an
// ephemeral credential (each issued credential has a new username, so
// counting usernames would let one identity exceed its quota), else the
// username.
func quotaOwner(res *auth.Result) string {
	if res.Identity != "" {
		return res.Identity
	}
	return res.Username
}

// allocateSuccess writes the success response of RFC 8656 §7.2: the relayed
// address, the granted lifetime and the client's reflexive address.
func (w *worker) allocateSuccess(r *request, s *session) {
	w.succeed(r,
		&stunproto.XORRelayedAddress{Addr: s.alloc.Relayed},
		stunproto.Lifetime{Duration: s.alloc.Expires().Sub(r.now)},
		&stunproto.XORMappedAddress{Addr: r.ft.Client},
	)
}

// closeSession removes s from the table and ends it.
func (w *worker) closeSession(s *session, reason string) {
	w.table.Delete(s.alloc.FiveTuple)
	w.endSession(s, reason)
}

// endSession releases what s holds: its socket, port and quota.
func (w *worker) endSession(s *session, reason string) {
	w.relays.close(s)
	w.env.pool.Release(s.port)
	w.env.quota.Release(s.owner)
	w.c.allocations.Add(-1)
	rec := Record{
		Username:        s.alloc.Username,
		Client:          s.alloc.FiveTuple.Client,
		Relayed:         s.alloc.Relayed,
		End:             w.env.clock.Now(),
		Reason:          reason,
		ToPeerPackets:   s.alloc.Counters.ToPeerPackets.Load(),
		ToPeerBytes:     s.alloc.Counters.ToPeerBytes.Load(),
		ToClientPackets: s.alloc.Counters.ToClientPackets.Load(),
		ToClientBytes:   s.alloc.Counters.ToClientBytes.Load(),
	}
	w.env.log.Debug("allocation ended", "client", rec.Client, "relayed", rec.Relayed, "reason", reason,
		"to_peer_packets", rec.ToPeerPackets, "to_client_packets", rec.ToClientPackets)
	if w.env.onEnd != nil {
		w.env.onEnd(rec)
	}
}
