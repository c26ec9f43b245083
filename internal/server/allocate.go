package server

import (
	"errors"
	"net/netip"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

// allocPlan is what an Allocate request asks for, once validated.
type allocPlan struct {
	primary    int        // family of the first relayed address
	additional bool       // also an IPv6 one (ADDITIONAL-ADDRESS-FAMILY)
	choice     portChoice // how to pick the port(s)
	df         bool       // DONT-FRAGMENT
	token      *allocation.Token
	tcp        bool // an RFC 6062 TCP allocation
}

// allocate implements RFC 8656 §7.2 "Receiving an Allocate Request", for
// UDP relays and for TCP relays (RFC 6062 §5.1). Authentication (step 1) is done by the caller. The request is
// validated in full (steps 2-9) before quota (step 10) and resources are
// taken, so a refused request consumes neither a reservation nor a port.
func (w *worker) allocate(r *request) {
	m := r.m
	// Step 2: "checks if the 5-tuple is currently in use by an existing
	// allocation. If yes, the server rejects the request with a 437". A
	// retransmission of the request that created it (same transaction ID)
	// gets the success response again (RFC 8656 §7.2, last paragraph). A
	// 5-tuple held by an allocation of another dialect is in use too.
	if r.held {
		w.fail(r, stun.CodeAllocMismatch)
		return
	}
	if s := w.unlessExpired(r.s, r.now); s != nil {
		if s.alloc.TxID == m.TransactionID && s.alloc.Username == r.auth.Username {
			w.allocateSuccess(r, s)
			return
		}
		w.fail(r, stun.CodeAllocMismatch)
		return
	}
	// A front listener sends the client on to the edge's own address; while
	// draining, new allocations go to a sibling (see refuseDraining).
	if w.redirectFront(r, r.l) || w.refuseDraining(r, r.l) {
		return
	}
	plan, code := w.planAllocation(m, r.l.conn != nil)
	if code != 0 {
		w.fail(r, code)
		return
	}
	owner := quotaOwner(r.auth)
	s, cause := w.admit(owner, plan, r.now, func() (*session, error) { return w.openSession(r, plan, owner) })
	switch {
	case s != nil:
	case cause == stats.RefusedUserQuota || cause == stats.RefusedPortsPerUser || cause == stats.RefusedReservation:
		w.refuse(r, cause)
		return
	default:
		w.refuseFull(r, r.l, &w.env.pool, cause)
		return
	}
	w.env.log.Debug("allocation created", "client", r.ft.Client, "relayed", s.alloc.Relayed,
		"additional", s.alloc.Additional, "user", r.auth.Identity, "lifetime", s.alloc.Expires().Sub(r.now))
	w.allocateSuccess(r, s)
}

// admit is step 10 of RFC 8656 §7.2 for an allocation owned by owner that
// plan describes, in either dialect: quotas (486 per user, for
// allocations and relay ports; 508 for the whole server) and capacity (508
// while the relayed bandwidth is above the configured capacity: "The
// server is unable to carry out the request due to some capacity limit
// being reached", §15). open then takes the relayed addresses. It returns
// the new session, or nil and the cause of the refusal (a
// full edge may send the client to a sibling: refuseFull).
func (w *worker) admit(owner string, plan allocPlan, now time.Time, open func() (*session, error)) (*session, stats.RefusalCause) {
	if w.env.overCapacity() {
		return nil, stats.RefusedBandwidthCapacity
	}
	// Reservations that ran out give their ports back (to the pool and to
	// their owners' port counts) before the quota is checked and new ports
	// are taken, so an expired reservation never makes an Allocate fail.
	w.expireReservations(now)
	ports, slack := w.portsNeeded(plan, owner)
	if err := w.acquireQuota(owner, ports, slack); err != nil {
		switch {
		case errors.Is(err, allocation.ErrUserQuota):
			return nil, stats.RefusedUserQuota
		case errors.Is(err, errPortQuota):
			return nil, stats.RefusedPortsPerUser
		}
		return nil, stats.RefusedAllocationsTotal
	}
	s, err := open()
	if err != nil {
		w.releaseQuota(owner, ports)
		if errors.Is(err, allocation.ErrNoReservation) {
			// The client's mistake, not the server's capacity.
			w.env.log.Debug("allocate: reservation token not valid", "identity", ownerIdentity(owner), "tenant", w.env.tenants.names[ownerTenant(owner)])
			return nil, stats.RefusedReservation
		}
		w.env.log.Warn("allocate: no relayed address", "identity", ownerIdentity(owner), "tenant", w.env.tenants.names[ownerTenant(owner)], "err", err)
		return nil, stats.RefusedNoRelayPort
	}
	// The ports counted beyond those the allocation and its reservation
	// hold (the missing half of a dual allocation) are given back.
	held := s.ports()
	if s.reserved {
		held++
	}
	if ports > held {
		w.env.quota.ReleasePorts(owner, ports-held)
	}
	s.user = w.env.bw.acquire(owner)
	w.allocationCreated(s)
	return s, 0 // the cause is unused with a session
}

// planAllocation checks steps 3 to 9 of RFC 8656 §7.2 and returns what the
// request asks for, or the error code to answer with. stream tells whether
// the request came over TCP or TLS.
func (w *worker) planAllocation(m *stun.Message, stream bool) (allocPlan, stun.ErrorCode) {
	var plan allocPlan
	// Step 3: REQUESTED-TRANSPORT must be present (400) and supported (442).
	var transport stunproto.RequestedTransport
	if err := transport.GetFrom(m); err != nil {
		return plan, stun.CodeBadRequest
	}
	switch transport.Protocol {
	case stunproto.ProtoUDP:
	case stunproto.ProtoTCP:
		if w.env.noTCPRelays {
			// TCP relays turned off: as if not supported (442).
			return plan, stun.CodeUnsupportedTransProto
		}
		return w.planTCP(m, stream)
	default:
		return plan, stun.CodeUnsupportedTransProto
	}
	// Step 4: DONT-FRAGMENT is supported: the relay sockets send with DF
	// (see openRelay), so it is not treated as unknown.
	if m.Contains(stun.AttrDontFragment) {
		if (stunproto.DontFragment{}).GetFrom(m) != nil {
			return plan, stun.CodeBadRequest
		}
		plan.df = true
	}
	requested := m.Contains(stun.AttrRequestedAddressFamily)
	additional := m.Contains(stunproto.AttrAdditionalAddressFamily)
	// Step 5: "If yes, and the request also contains an EVEN-PORT or
	// REQUESTED-ADDRESS-FAMILY or ADDITIONAL-ADDRESS-FAMILY attribute, the
	// server rejects the request with a 400". The token itself is claimed
	// with the resources, after the quota check (508 if not valid).
	if m.Contains(stun.AttrReservationToken) {
		if m.Contains(stun.AttrEvenPort) || requested || additional {
			return plan, stun.CodeBadRequest
		}
		var tok stunproto.ReservationToken
		if tok.GetFrom(m) != nil {
			return plan, stun.CodeBadRequest
		}
		t := allocation.Token(tok)
		plan.token = &t
		return plan, 0
	}
	// Step 6: both family attributes → 400.
	if requested && additional {
		return plan, stun.CodeBadRequest
	}
	// Step 7: REQUESTED-ADDRESS-FAMILY (RFC 6156 §4.2): a family the server
	// does not offer → 440; without it, IPv4 (IPv6 on an IPv6-only edge,
	// see defaultFamily).
	plan.primary = defaultFamily(&w.env.families)
	if requested {
		var code stun.ErrorCode
		if plan.primary, code = w.requestedFamily(m); code != 0 {
			return plan, code
		}
	}
	// Step 8: EVEN-PORT; with the R bit, not together with
	// ADDITIONAL-ADDRESS-FAMILY (400). Whether the pair is free is found
	// out when the ports are taken (508).
	if m.Contains(stun.AttrEvenPort) {
		var ep stunproto.EvenPort
		if err := ep.GetFrom(m); err != nil {
			return plan, stun.CodeBadRequest
		}
		plan.choice = evenPort
		if ep.ReservePort {
			if additional {
				return plan, stun.CodeBadRequest
			}
			plan.choice = evenPair
		}
	}
	// Step 9: ADDITIONAL-ADDRESS-FAMILY: "the attribute value of 0x02 (IPv6
	// address) is the only valid value" (§18.11), anything else is a 400.
	// Whether an IPv6 address can be given is decided in openSession.
	if additional {
		var fam stunproto.AdditionalAddressFamily
		if err := fam.GetFrom(m); err != nil || uint8(fam) != stunproto.FamilyIPv6 {
			return plan, stun.CodeBadRequest
		}
		plan.additional = true
	}
	return plan, 0
}

// planTCP checks an Allocate for a TCP relayed address, RFC 6062 §5.1:
// "If the client connection transport is not TCP or TLS, the server MUST
// reject the request with a 400 (Bad Request) error. If the request
// contains the DONT-FRAGMENT, EVEN-PORT, or RESERVATION-TOKEN attribute,
// the server MUST reject the request with a 400 (Bad Request) error."
// A TCP allocation has one relayed address: ADDITIONAL-ADDRESS-FAMILY is
// refused with 400 as well; REQUESTED-ADDRESS-FAMILY picks the family
// (440 when it is not offered).
func (w *worker) planTCP(m *stun.Message, stream bool) (allocPlan, stun.ErrorCode) {
	plan := allocPlan{tcp: true, primary: defaultFamily(&w.env.families)}
	if !stream || m.Contains(stun.AttrDontFragment) || m.Contains(stun.AttrEvenPort) ||
		m.Contains(stun.AttrReservationToken) || m.Contains(stunproto.AttrAdditionalAddressFamily) {
		return plan, stun.CodeBadRequest
	}
	if m.Contains(stun.AttrRequestedAddressFamily) {
		var code stun.ErrorCode
		if plan.primary, code = w.requestedFamily(m); code != 0 {
			return plan, code
		}
	}
	return plan, 0
}

// requestedFamily reads REQUESTED-ADDRESS-FAMILY (RFC 6156 §4.2): a family
// the server does not offer → 440, a malformed attribute → 400.
func (w *worker) requestedFamily(m *stun.Message) (int, stun.ErrorCode) {
	var fam stunproto.RequestedAddressFamily
	switch err := fam.GetFrom(m); {
	case errors.Is(err, stunproto.ErrBadFamily):
		return 0, stun.CodeAddrFamilyNotSupported
	case err != nil:
		return 0, stun.CodeBadRequest
	}
	f := familyIndex(uint8(fam))
	if !w.env.families[f].offered() {
		return 0, stun.CodeAddrFamilyNotSupported
	}
	return f, 0
}

// openSession takes the relayed addresses plan asks for, binds their
// sockets and records the allocation. On error everything taken so far is
// given back.
func (w *worker) openSession(r *request, plan allocPlan, owner string) (*session, error) {
	var lifetime stunproto.Lifetime
	present := lifetime.GetFrom(r.m) == nil
	s := w.newSession(r.ft, r.l, r.auth.Username, owner, w.env.alloc.Lifetime(lifetime.Duration, present), r.now)
	s.alloc.TxID = r.m.TransactionID
	var err error
	switch {
	case plan.tcp:
		err = w.openTCPRelay(s, plan.primary)
	case plan.token != nil:
		err = w.claimReservation(s, *plan.token, plan.df, r)
	case plan.additional:
		err = w.openDual(s, plan)
	default:
		err = w.openRelay(s, plan.primary, plan.choice, plan.df)
		if err == nil && plan.choice == evenPair {
			err = w.reserveNext(s, plan.primary, r)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := w.insertSession(s); err != nil {
		// Unreachable (allocate looked the 5-tuple up on this worker).
		// A reservation made stays, uncounted: the caller releases every
		// port it counted.
		if s.reserved {
			even := s.relays[plan.primary].addr
			w.env.owners.remove(netip.AddrPortFrom(even.Addr(), even.Port()+1))
		}
		w.closeRelays(s)
		return nil, err
	}
	return s, nil
}

// newSession returns the session of a new allocation of the client
// 5-tuple ft, reached through l, by username, counted against owner, with
// lifetime from now; it has no relayed address yet.
func (w *worker) newSession(ft allocation.FiveTuple, l *listener, username, owner string, lifetime time.Duration, now time.Time) *session {
	a := &allocation.Allocation{FiveTuple: ft, Username: username}
	s := &session{
		alloc: a, client: l, owner: owner, id: w.env.sessionIDs.Add(1),
		start: now.UnixNano(), reported: now.UnixNano(), deadline: now.Add(w.env.maxAge).UnixNano(),
	}
	a.Refresh(s.bounded(lifetime, now), now)
	a.Relay = s
	return s
}

// insertSession records the relayed addresses of s in its allocation and
// the allocation in the table; the caller closes the relays on error.
func (w *worker) insertSession(s *session) error {
	a := s.alloc
	for _, rl := range s.relays {
		switch {
		case rl.sock == nil:
		case !a.Relayed.IsValid():
			a.Relayed = rl.addr
		default:
			a.Additional = rl.addr
		}
	}
	if err := w.table.Insert(a); err != nil {
		return err
	}
	if s.client.conn != nil {
		s.client.conn.c.Hold(true)
	}
	return nil
}

// openDual opens one IPv4 and one IPv6 relayed address (RFC 8656 §7.2 step
// 9). "If the server can partially meet the request, i.e., if it can only
// allocate one relayed transport address of a specific address type, then it
// includes ADDRESS-ERROR-CODE attribute in the success response [...] 440
// (Address Family not Supported) or 508 (Insufficient Capacity)". Only when
// neither family can be given does the request fail (508).
func (w *worker) openDual(s *session, plan allocPlan) error {
	var errs [families]error
	for fam := range families {
		if !w.env.families[fam].offered() {
			s.addrErr = addressError(fam, stun.CodeAddrFamilyNotSupported)
			errs[fam] = errFamilyNotOffered
			continue
		}
		if errs[fam] = w.openRelay(s, fam, plan.choice, plan.df); errs[fam] != nil {
			s.addrErr = addressError(fam, stun.CodeInsufficientCapacity)
		}
	}
	if errs[famV4] != nil && errs[famV6] != nil {
		return errors.Join(errs[:]...)
	}
	return nil
}

// addressError is the ADDRESS-ERROR-CODE for family index fam.
func addressError(fam int, code stun.ErrorCode) stunproto.AddressErrorCode {
	reason := "Insufficient Capacity"
	if code == stun.CodeAddrFamilyNotSupported {
		reason = "Address Family not Supported"
	}
	return stunproto.AddressErrorCode{Family: stunFamilies[fam], Code: code, Reason: reason}
}

// claimReservation gives s the relayed address reserved under tok. RFC 8656
// §7.2 step 5: the token must be valid ("in range and has not expired, and
// the corresponding relayed transport address is still available"), else
// 508. The reserved port is already taken from the pool; if it can no
// longer be bound, it is given back (or quarantined when another program
// holds it).
func (w *worker) claimReservation(s *session, tok allocation.Token, df bool, r *request) error {
	addr, err := w.env.reservations.Claim(tok, r.now)
	if err != nil {
		return err
	}
	// The reservation is gone: its owner no longer holds its port, which
	// the claiming allocation counts (see portsNeeded).
	if owner, ok := w.env.owners.remove(addr); ok {
		w.env.quota.ReleasePorts(owner, 1)
	}
	fam := familyOf(addr.Addr())
	if err := w.bindRelay(s, fam, addr, df); err != nil {
		w.giveBack(fam, addr, err)
		return err
	}
	return nil
}

// reserveNext reserves the port after the even relayed port of s, which
// openRelay took with it, for a later Allocate with the token, and records
// the token for the response (RFC 8656 §7.2: "the relayed transport address
// with port N+1 is assigned a token and reserved for a future allocation").
func (w *worker) reserveNext(s *session, fam int, r *request) error {
	even := s.relays[fam].addr
	addr := netip.AddrPortFrom(even.Addr(), even.Port()+1)
	tok, err := w.env.reservations.Reserve(addr, r.now)
	if err != nil {
		w.env.release(addr)
		w.closeRelays(s)
		return err
	}
	s.token, s.reserved = stunproto.ReservationToken(tok), true
	w.env.owners.add(tok, addr, s.owner)
	return nil
}

// allocateSuccess writes the success response of RFC 8656 §7.2: the relayed
// address or addresses (IPv4 first), the granted lifetime, the token of a
// reserved port, the client's reflexive address and, for a dual allocation
// that could be met only in half, ADDRESS-ERROR-CODE.
func (w *worker) allocateSuccess(r *request, s *session) {
	attrs := make([]stun.Setter, 0, 6)
	for _, rl := range s.relays {
		if rl.sock != nil {
			// Behind a 1:1 NAT, peers reach the relay socket (bound to
			// rl.addr) at the NAT's public address: the address put in
			// XOR-RELAYED-ADDRESS is the one peers send to (RFC 8656 §7.2).
			attrs = append(attrs, &stunproto.XORRelayedAddress{Addr: w.env.advertise(rl.addr)})
		}
	}
	attrs = append(attrs, stunproto.Lifetime{Duration: s.alloc.Expires().Sub(r.now)})
	if s.reserved {
		attrs = append(attrs, s.token)
	}
	attrs = append(attrs, &stunproto.XORMappedAddress{Addr: r.ft.Client})
	if s.addrErr.Code != 0 {
		attrs = append(attrs, s.addrErr)
	}
	w.succeed(r, attrs...)
}

// unlessExpired returns s, or nil when s is nil or its allocation expired
// at now: the tick has not reaped it yet, but it is gone, and it ends here.
func (w *worker) unlessExpired(s *session, now time.Time) *session {
	if s == nil || !s.alloc.Expired(now) {
		return s
	}
	w.closeSession(s, s.expiry())
	return nil
}

// bounded returns lifetime, cut short so that the allocation of s, granted
// it at now, expires by its deadline (Options.MaxAllocationAge).
func (s *session) bounded(lifetime time.Duration, now time.Time) time.Duration {
	return max(min(lifetime, time.Duration(s.deadline-now.UnixNano())), 0)
}

// expiry is why the allocation of s ends when its lifetime runs out:
// EndMaxAge when that reached its deadline, EndExpired otherwise.
func (s *session) expiry() stats.EndReason {
	if s.alloc.Expires().UnixNano() >= s.deadline {
		return stats.EndMaxAge
	}
	return stats.EndExpired
}

// closeSession removes s from the table and ends it.
func (w *worker) closeSession(s *session, reason stats.EndReason) {
	w.table.Delete(s.alloc.FiveTuple)
	w.endSession(s, reason)
}

// endSession releases what s holds: its sockets, ports and quota.
func (w *worker) endSession(s *session, reason stats.EndReason) {
	ports := s.ports()
	w.closeRelays(s)
	w.releaseQuota(s.owner, ports)
	w.env.bw.release(s.owner, s.user)
	s.user = nil
	w.allocationEnded(s, reason)
	w.env.drain.allocationEnded()
	if s.client.conn != nil {
		s.client.conn.c.Hold(false)
	}
	rec := w.record(s, w.env.clock.Now())
	rec.Reason = reason.String()
	w.env.log.Debug("allocation ended", "client", rec.Client, "relayed", rec.Relayed, "reason", rec.Reason,
		"to_peer_packets", rec.ToPeerPackets, "to_client_packets", rec.ToClientPackets)
	if w.env.onEnd != nil {
		w.env.onEnd(rec)
	}
}

// record returns the record of s at now, its counters published, without
// a reason.
func (w *worker) record(s *session, now time.Time) stats.Record {
	s.publish()
	return stats.Record{
		Username:        s.alloc.Username,
		Identity:        ownerIdentity(s.owner), // the credential's identity
		Tenant:          w.env.tenants.names[ownerTenant(s.owner)],
		Client:          s.alloc.FiveTuple.Client,
		Relayed:         s.alloc.Relayed,
		Additional:      s.alloc.Additional,
		Dialect:         s.counted.Dialect().String(),
		Transport:       s.counted.Transport().String(),
		RelayProtocol:   s.counted.Relay().String(),
		Start:           time.Unix(0, s.start),
		End:             now,
		ToPeerPackets:   s.alloc.Counters.ToPeerPackets.Load(),
		ToPeerBytes:     s.alloc.Counters.ToPeerBytes.Load(),
		ToClientPackets: s.alloc.Counters.ToClientPackets.Load(),
		ToClientBytes:   s.alloc.Counters.ToClientBytes.Load(),
	}
}
