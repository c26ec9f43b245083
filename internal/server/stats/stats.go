package stats

import "github.com/avedge/avedge/internal/datapath"

// Stats is a snapshot of the relay's counters, summed over its workers.
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
	AllocationsByKind  [NumAllocationKinds]int64
	AllocationsCreated [NumAllocationKinds]uint64
	AllocationsEnded   [NumEndReasons]uint64
	// Auth counts authentication results by AuthResult.
	Auth [NumAuthResults]uint64
	// Refusals counts requests refused by RefusalCause.
	Refusals [NumRefusalCauses]uint64
	// ChannelBinds counts ChannelBind requests granted, by the
	// ChannelRange of their number.
	ChannelBinds [NumChannelRanges]uint64
	// Ports is the use of the relay port pools.
	Ports PortStats
	// Drops counts silently discarded packets by reason.
	Drops [NumDropReasons]uint64
	// DataPath sums the socket-level counters of the workers, including
	// datagrams too large to relay (RxTruncated).
	DataPath datapath.Stats
	// Stream counts TCP and TLS client connections.
	Stream StreamStats
	// TCP counts the peer and data connections of RFC 6062 TCP relays.
	TCP TCPRelayStats
	// Tenants splits the allocation counts by tenant, the default
	// tenant first.
	Tenants []TenantStats
}

// TenantStats are one tenant's share of the allocation counts of Stats.
type TenantStats struct {
	// Name names the tenant.
	Name string
	// AllocationsByKind, AllocationsCreated and AllocationsEnded are as
	// in Stats, for the tenant's allocations.
	AllocationsByKind  [NumAllocationKinds]int64
	AllocationsCreated [NumAllocationKinds]uint64
	AllocationsEnded   [NumEndReasons]uint64
}

// Dropped returns the number of packets dropped for reason r.
func (s Stats) Dropped(r DropReason) uint64 { return at(s.Drops[:], r) }

// Refused returns the number of requests refused for cause c.
func (s Stats) Refused(c RefusalCause) uint64 { return at(s.Refusals[:], c) }

// Authenticated returns the number of authentication results r.
func (s Stats) Authenticated(r AuthResult) uint64 { return at(s.Auth[:], r) }

// Ended returns the number of allocations ended for reason r.
func (s Stats) Ended(r EndReason) uint64 { return at(s.AllocationsEnded[:], r) }

// at returns counts[k], or 0 for a label out of range.
func at[K ~uint8](counts []uint64, k K) uint64 {
	if int(k) >= len(counts) {
		return 0
	}
	return counts[k]
}

// PortStats is the use of the relay port pools, summed over the relay
// addresses (one pool each).
type PortStats struct {
	// InUse counts the ports taken for relayed addresses.
	InUse uint64
	// Reserved counts the ports held for a RESERVATION-TOKEN (EVEN-PORT
	// with the R bit), expired ones not yet handed back included.
	Reserved uint64
	// Quarantined counts the ports taken out of the pools for good because
	// another program held them.
	Quarantined uint64
	// Capacity is the size of the configured port range times the relay
	// addresses.
	Capacity uint64
}

// StreamStats counts TCP and TLS client connections.
type StreamStats struct {
	// Open is the number of open connections; Accepted counts those that
	// passed the limits.
	Open, Accepted uint64
	// RefusedTotal and RefusedPerSource count connections closed at once
	// for the total and per-source limits, RefusedRate those closed at
	// once for the per-source rate of new connections.
	RefusedTotal, RefusedPerSource, RefusedRate uint64
	// HandshakeFailed counts connections that sent no first byte, or no
	// complete TLS handshake, within the handshake timeout, and failed
	// handshakes; NotTURN those whose bytes are neither TLS (where
	// offered), STUN nor ChannelData.
	HandshakeFailed, NotTURN uint64
	// FrameTooLarge counts connections closed for a length field over the
	// frame limit; FrameTimeouts those closed for a message begun and not
	// finished in time (slowloris); IdleTimeouts idle ones without an
	// allocation; LifetimeExpired those that reached their lifetime
	// without an allocation; WriteTimeouts clients that did not take
	// their bytes.
	FrameTooLarge, FrameTimeouts, IdleTimeouts, LifetimeExpired, WriteTimeouts uint64
	// On listeners behind proxies (the PROXY protocol): ProxyUntrusted
	// counts connections closed at once for coming from outside the
	// trusted proxies; ProxyBadHeader those from a trusted proxy closed
	// for want of a valid header in time (or of the version required);
	// ProxyPending those closed at once because their proxy had too many
	// connections awaiting their header.
	ProxyUntrusted, ProxyBadHeader, ProxyPending uint64
}

// TCPRelayStats counts the connections of RFC 6062 TCP relays.
type TCPRelayStats struct {
	// Connects counts peer connections opened by Connect; ConnectFailed
	// the attempts answered with 447.
	Connects, ConnectFailed uint64
	// Inbound counts peer connections accepted and announced to the client
	// with a ConnectionAttempt indication.
	Inbound uint64
	// RefusedNoPermission counts inbound peers closed at once for lacking
	// a permission; RefusedLimit peer connections refused for the
	// per-allocation or pending limits.
	RefusedNoPermission, RefusedLimit uint64
	// BindsExpired counts peer connections closed because no
	// ConnectionBind came within 30 s; BadBinds ConnectionBind requests
	// refused (unknown or expired id, other credentials).
	BindsExpired, BadBinds uint64
	// Bound counts client data connections made by ConnectionBind;
	// DataOpen is the number of those open.
	Bound    uint64
	DataOpen int64
	// ToPeerBytes and ToClientBytes count the bytes relayed over data
	// connections, as each connection ends.
	ToPeerBytes, ToClientBytes uint64
}
