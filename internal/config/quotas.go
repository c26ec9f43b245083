package config

import "math"

// Quotas bound what clients may create.
type Quotas struct {
	// AllocationsPerUser bounds the allocations of one username.
	AllocationsPerUser int `json:"allocations_per_user"`
	// AllocationsTotal bounds all allocations; defaults to the number of
	// relay ports.
	AllocationsTotal int `json:"allocations_total"`
	// PortsPerUser bounds the relay ports one user holds: one per relayed
	// address of its allocations (two for a dual one) and one per port
	// reserved for it with EVEN-PORT until the reservation is claimed or
	// expires; defaults to twice AllocationsPerUser.
	PortsPerUser int `json:"ports_per_user"`
	// PermissionsPerAllocation bounds the permissions of one allocation.
	PermissionsPerAllocation int `json:"permissions_per_allocation"`
	// ChannelsPerAllocation bounds the channel bindings of one allocation.
	ChannelsPerAllocation int `json:"channels_per_allocation"`
	// TCPConnections bounds the open TCP and TLS client connections;
	// TCPConnectionsPerSource those from one source (an IPv4 address or
	// an IPv6 /64).
	TCPConnections          int `json:"tcp_connections"`
	TCPConnectionsPerSource int `json:"tcp_connections_per_source"`
	// TCPConnectionsPerAllocation bounds the peer connections of one
	// RFC 6062 TCP allocation.
	TCPConnectionsPerAllocation int `json:"tcp_connections_per_allocation"`
	// BandwidthPerAllocation caps the payload one allocation relays in
	// each direction, in bytes per second (written in bits per second,
	// see parser.bandwidth); 0: no cap.
	BandwidthPerAllocation uint64 `json:"bandwidth_per_allocation,omitempty"`
	// BandwidthPerUser caps the sum over one user's allocations, per
	// direction, in bytes per second; 0: no cap.
	BandwidthPerUser uint64 `json:"bandwidth_per_user,omitempty"`
	// Capacity is the relayed bandwidth of the whole edge, both ways, in
	// bytes per second, beyond which new allocations get 508; 0: none.
	Capacity uint64 `json:"capacity,omitempty"`
}

const (
	defaultAllocationsPerUser = 12
	defaultPerAllocation      = 64
	maxPermissions            = 1024
	// maxChannels is the number of channel numbers, 0x4000 through 0x4FFF
	// (RFC 8656 §12).
	maxChannels = 0x1000
	// defaultTCPConnections and defaultTCPPerSource are the connection
	// limits of TCP and TLS listeners.
	defaultTCPConnections = 16384
	defaultTCPPerSource   = 64
	// defaultTCPPerAllocation bounds the peer connections of a TCP relay.
	defaultTCPPerAllocation = 64
	maxTCPPerAllocation     = 4096
)

// defaultQuotas returns the quota defaults; AllocationsTotal is filled in
// from the relay port range once that is known.
func defaultQuotas() Quotas {
	return Quotas{
		AllocationsPerUser:       defaultAllocationsPerUser,
		PermissionsPerAllocation: defaultPerAllocation,
		ChannelsPerAllocation:    defaultPerAllocation,
		TCPConnections:           defaultTCPConnections,
		TCPConnectionsPerSource:  defaultTCPPerSource,

		TCPConnectionsPerAllocation: defaultTCPPerAllocation,
	}
}

// quotas decodes the quotas section.
func (p *parser) quotas(e entry, dst *Quotas) error {
	limit := func(dst *int, lo, hi int) func(entry) error {
		return func(e entry) error {
			n, err := p.integer(e, lo, hi)
			*dst = n
			return err
		}
	}
	_, err := p.mapping(e, []field{
		{"allocations_per_user", limit(&dst.AllocationsPerUser, 1, math.MaxInt)},
		{"allocations_total", limit(&dst.AllocationsTotal, 1, math.MaxInt)},
		{"ports_per_user", limit(&dst.PortsPerUser, 1, math.MaxInt)},
		{"permissions_per_allocation", limit(&dst.PermissionsPerAllocation, 1, maxPermissions)},
		{"channels_per_allocation", limit(&dst.ChannelsPerAllocation, 1, maxChannels)},
		{"tcp_connections", limit(&dst.TCPConnections, 1, math.MaxInt32)},
		{"tcp_connections_per_source", limit(&dst.TCPConnectionsPerSource, 1, math.MaxInt32)},
		{"tcp_connections_per_allocation", limit(&dst.TCPConnectionsPerAllocation, 1, maxTCPPerAllocation)},
		{"bandwidth_per_allocation", p.bandwidthField(&dst.BandwidthPerAllocation)},
		{"bandwidth_per_user", p.bandwidthField(&dst.BandwidthPerUser)},
		{"capacity", p.bandwidthField(&dst.Capacity)},
	})
	return err
}

// finishQuotas defaults allocations_total to the number of relay ports and
// warns when it is set above that; defaults ports_per_user to twice
// allocations_per_user and warns when it is set below that.
func (p *parser) finishQuotas() error {
	q, ports := &p.cfg.Quotas, p.cfg.Relay.Ports()
	switch {
	case q.AllocationsTotal == 0:
		q.AllocationsTotal = ports
	case q.AllocationsTotal > ports:
		p.warn("quotas.allocations_total", "%d exceeds the %d relay ports, which bound the allocations anyway", q.AllocationsTotal, ports)
	}
	switch {
	case q.PortsPerUser == 0 && q.AllocationsPerUser > math.MaxInt/2:
		q.PortsPerUser = math.MaxInt
	case q.PortsPerUser == 0:
		q.PortsPerUser = 2 * q.AllocationsPerUser
	case q.PortsPerUser < q.AllocationsPerUser:
		p.warn("quotas.ports_per_user", "%d is below allocations_per_user (%d): a user reaches no more than %d allocations",
			q.PortsPerUser, q.AllocationsPerUser, q.PortsPerUser)
	}
	return nil
}
