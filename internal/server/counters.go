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
	DropSendFailed                       // the kernel refused a write (buffer full, unreachable)
	DropClientStalled                    // a TCP/TLS client's write queue was full (slow or stalled reader)
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
}

// String returns the metric label of the reason.
func (r DropReason) String() string {
	if r < 0 || r >= dropReasons {
		return "unknown"
	}
	return dropNames[r]
}

// counters are one worker's figures. Only the owning worker writes them; any
// goroutine may read them, so they are atomics on lines no other worker
// writes.
type counters struct {
	toPeerPackets   atomic.Uint64
	toPeerBytes     atomic.Uint64
	toClientPackets atomic.Uint64
	toClientBytes   atomic.Uint64
	requests        atomic.Uint64
	drops           [dropReasons]atomic.Uint64
	allocations     atomic.Int64
	_               [64]byte // keep the next worker's counters off this cache line
}

func (c *counters) drop(r DropReason) { c.drops[r].Add(1) }

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
	s.Allocations += c.allocations.Load()
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
