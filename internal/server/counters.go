package server

import (
	"sync/atomic"

	"github.com/avedge/avedge/internal/datapath"
)

// DropReason names why a packet was discarded without an answer.
type DropReason int

// Reasons a packet is dropped silently. Every drop is counted under one.
const (
	DropMalformed      DropReason = iota // neither STUN nor ChannelData, or fails to decode
	DropBadFingerprint                   // FINGERPRINT present and wrong
	DropNoAllocation                     // ChannelData or Send from a 5-tuple with no allocation
	DropNoChannel                        // ChannelData on an unbound or expired channel
	DropNoPermission                     // peer without a permission, either direction
	DropBadIndication                    // Send indication missing attributes or unknown ones
	DropUnexpected                       // responses, unknown methods or classes sent to the server
	DropSendFailed                       // a write failed at once (DF setup, TCP relay); queued UDP sends count in DataPath
	DropClientStalled                    // a TCP/TLS client's write queue was full (slow or stalled reader)
	DropRateLimited                      // an unauthenticated request or a 401/438 answer over its source's limit
	DropBandwidth                        // relayed payload over its allocation's or user's bandwidth cap
	DropBadSequence                      // an [MS-TURN] request with another MS-SEQUENCE-NUMBER connection ID, an older number, a repeated Send, or a Set Active Destination repeating the last number in another transaction
	DropBadIntegrity                     // an [MS-TURN] Send or Set Active Destination whose MESSAGE-INTEGRITY fails or is missing
	dropReasons
)

var dropNames = [dropReasons]string{
	DropMalformed:      "malformed",
	DropBadFingerprint: "bad_fingerprint",
	DropNoAllocation:   "no_allocation",
	DropNoChannel:      "no_channel",
	DropNoPermission:   "no_permission",
	DropBadIndication:  "bad_indication",
	DropUnexpected:     "unexpected",
	DropSendFailed:     "send_failed",
	DropClientStalled:  "client_stalled",
	DropRateLimited:    "rate_limited",
	DropBandwidth:      "bandwidth",
	DropBadSequence:    "bad_sequence",
	DropBadIntegrity:   "bad_integrity",
}

// String returns the metric label of the reason.
func (r DropReason) String() string {
	if r < 0 || r >= dropReasons {
		return "unknown"
	}
	return dropNames[r]
}

// counters are one worker's published figures. Only the owning worker
// writes them, once per round (worker.EndRound); any goroutine may read
// them, so they are atomics on lines no other worker writes.
type counters struct {
	toPeerPackets   atomic.Uint64
	toPeerBytes     atomic.Uint64
	toClientPackets atomic.Uint64
	toClientBytes   atomic.Uint64
	requests        atomic.Uint64
	drops           [dropReasons]atomic.Uint64
	// The control path's counts, bumped directly (once per request, never
	// per relayed packet): live allocations and those created by kind,
	// those ended by reason, authentication results and refusals.
	allocations [allocationKinds]atomic.Int64
	created     [allocationKinds]atomic.Uint64
	ended       [endReasons]atomic.Uint64
	auth        [authResults]atomic.Uint64
	refusals    [refusalCauses]atomic.Uint64
	_           [64]byte // keep the next worker's counters off this cache line
}

// tally is what a worker counted since it last published: plain fields
// that the handlers bump per packet on the worker goroutine, added to the
// counters once per round.
type tally struct {
	toPeerPackets, toPeerBytes     uint64
	toClientPackets, toClientBytes uint64
	requests                       uint64
	drops                          [dropReasons]uint64
}

func (t *tally) drop(r DropReason) { t.drops[r]++ }

// publish adds t to c and clears t.
func (t *tally) publish(c *counters) {
	for _, f := range [...]struct {
		n   uint64
		ctr *atomic.Uint64
	}{
		{t.toPeerPackets, &c.toPeerPackets},
		{t.toPeerBytes, &c.toPeerBytes},
		{t.toClientPackets, &c.toClientPackets},
		{t.toClientBytes, &c.toClientBytes},
		{t.requests, &c.requests},
	} {
		if f.n != 0 {
			f.ctr.Add(f.n)
		}
	}
	for r, n := range t.drops {
		if n != 0 {
			c.drops[r].Add(n)
		}
	}
	*t = tally{}
}

// sessionTally is what a session relayed since its worker last published
// it to the allocation's Counters.
type sessionTally struct {
	toPeerPackets, toPeerBytes     uint64
	toClientPackets, toClientBytes uint64
	bandwidthDrops                 uint64
	dirty                          bool // listed in worker.dirty
}

// publish adds what s relayed since the last call to its allocation's
// Counters.
func (s *session) publish() {
	p, c := &s.pend, &s.alloc.Counters
	if p.toPeerPackets != 0 {
		c.ToPeerPackets.Add(p.toPeerPackets)
		c.ToPeerBytes.Add(p.toPeerBytes)
	}
	if p.toClientPackets != 0 {
		c.ToClientPackets.Add(p.toClientPackets)
		c.ToClientBytes.Add(p.toClientBytes)
	}
	if p.bandwidthDrops != 0 {
		c.BandwidthDrops.Add(p.bandwidthDrops)
	}
	s.pend = sessionTally{}
}

// touch lists s for the next EndRound, once.
func (w *worker) touch(s *session) {
	if !s.pend.dirty {
		s.pend.dirty = true
		w.dirty = append(w.dirty, s)
	}
}

// EndRound implements datapath.Handler: it publishes the worker's and the
// sessions' counts of the round.
func (w *worker) EndRound() {
	w.p.publish(&w.c)
	for i, s := range w.dirty {
		s.publish()
		w.dirty[i] = nil
	}
	w.dirty = w.dirty[:0]
}

// Stats is a snapshot of the server's counters, summed over workers.
type Stats struct {
	// ToPeerPackets and ToPeerBytes count payload relayed from clients to peers.
	ToPeerPackets, ToPeerBytes uint64
	// ToClientPackets and ToClientBytes count payload relayed from peers to clients.
	ToClientPackets, ToClientBytes uint64
	// Requests counts STUN requests answered (including error answers).
	Requests uint64
	// Allocations is the number of live allocations.
	Allocations int64
	// AllocationsByKind is the number of live allocations by
	// AllocationKind; AllocationsCreated counts those created by the kind
	// they had then, AllocationsEnded those ended by EndReason.
	AllocationsByKind  [allocationKinds]int64
	AllocationsCreated [allocationKinds]uint64
	AllocationsEnded   [endReasons]uint64
	// Auth counts authentication results by AuthResult.
	Auth [authResults]uint64
	// Refusals counts requests refused by RefusalCause.
	Refusals [refusalCauses]uint64
	// Ports is the use of the relay port pools.
	Ports PortStats
	// Drops counts silently discarded packets by reason.
	Drops [dropReasons]uint64
	// DataPath sums the socket-level counters of the workers, including
	// datagrams too large to relay (RxTruncated).
	DataPath datapath.Stats
	// Stream counts TCP and TLS client connections.
	Stream StreamStats
	// TCP counts the peer and data connections of RFC 6062 TCP relays.
	TCP TCPRelayStats
}

func (s *Stats) add(c *counters) {
	s.ToPeerPackets += c.toPeerPackets.Load()
	s.ToPeerBytes += c.toPeerBytes.Load()
	s.ToClientPackets += c.toClientPackets.Load()
	s.ToClientBytes += c.toClientBytes.Load()
	s.Requests += c.requests.Load()
	for k := range c.allocations {
		n := c.allocations[k].Load()
		s.AllocationsByKind[k] += n
		s.Allocations += n
		s.AllocationsCreated[k] += c.created[k].Load()
	}
	for r := range c.ended {
		s.AllocationsEnded[r] += c.ended[r].Load()
	}
	for r := range c.auth {
		s.Auth[r] += c.auth[r].Load()
	}
	for r := range c.refusals {
		s.Refusals[r] += c.refusals[r].Load()
	}
	for i := range s.Drops {
		s.Drops[i] += c.drops[i].Load()
	}
}

// Dropped returns the number of packets dropped for reason r.
func (s Stats) Dropped(r DropReason) uint64 {
	if r < 0 || r >= dropReasons {
		return 0
	}
	return s.Drops[r]
}

// Refused returns the number of requests refused for cause c.
func (s Stats) Refused(c RefusalCause) uint64 {
	if c >= refusalCauses {
		return 0
	}
	return s.Refusals[c]
}

// Authenticated returns the number of authentication results r.
func (s Stats) Authenticated(r AuthResult) uint64 {
	if r >= authResults {
		return 0
	}
	return s.Auth[r]
}

// Ended returns the number of allocations ended for reason r.
func (s Stats) Ended(r EndReason) uint64 {
	if r >= endReasons {
		return 0
	}
	return s.AllocationsEnded[r]
}

// allocationCreated counts s as a new allocation of its kind.
func (w *worker) allocationCreated(s *session) {
	k := s.kind()
	s.counted = k
	w.c.allocations[k].Add(1)
	w.c.created[k].Add(1)
}

// allocationChanged moves s to the kind it has now (a dual allocation that
// gave up one family).
func (w *worker) allocationChanged(s *session) {
	if k := s.kind(); k != s.counted {
		w.c.allocations[s.counted].Add(-1)
		w.c.allocations[k].Add(1)
		s.counted = k
	}
}

// allocationEnded counts s as ended for reason.
func (w *worker) allocationEnded(s *session, reason EndReason) {
	w.c.allocations[s.counted].Add(-1)
	w.c.ended[reason].Add(1)
}
