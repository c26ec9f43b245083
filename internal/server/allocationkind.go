package server

// AllocationKind is an allocation's client transport, relayed transport
// and relayed address family together, as a small index: the labels of
// the allocation metrics.
type AllocationKind uint8

// The client transports, relayed transports and relayed address families
// of an AllocationKind.
const (
	transportUDP = iota
	transportTCP
	transportTLS
	transports
)

const (
	relayUDP = iota
	relayTCP // RFC 6062
	relayProtocols
)

const (
	familyIPv4 = iota
	familyIPv6
	familyDual // an IPv4 and an IPv6 relayed address (RFC 8656 §7.2)
	kindFamilies
)

// allocationKinds is the number of AllocationKinds.
const allocationKinds = transports * relayProtocols * kindFamilies

var (
	transportNames = [transports]string{transportUDP: "udp", transportTCP: "tcp", transportTLS: "tls"}
	relayNames     = [relayProtocols]string{relayUDP: "udp", relayTCP: "tcp"}
	kindFamilyName = [kindFamilies]string{familyIPv4: "ipv4", familyIPv6: "ipv6", familyDual: "dual"}
)

// kindOf returns the AllocationKind of the given indices.
func kindOf(transport, relay, family int) AllocationKind {
	return AllocationKind((transport*relayProtocols+relay)*kindFamilies + family)
}

// Transport names the client transport: "udp", "tcp" or "tls".
func (k AllocationKind) Transport() string {
	return transportNames[int(k)/(relayProtocols*kindFamilies)%transports]
}

// Relay names the relayed transport: "udp", or "tcp" for RFC 6062.
func (k AllocationKind) Relay() string { return relayNames[int(k)/kindFamilies%relayProtocols] }

// Family names the relayed address family: "ipv4", "ipv6" or "dual".
func (k AllocationKind) Family() string { return kindFamilyName[int(k)%kindFamilies] }

// kind returns the AllocationKind of s as it is now: a dual allocation
// that gave up one family counts as the other.
func (s *session) kind() AllocationKind {
	transport := transportUDP
	if c := s.client.conn; c != nil {
		transport = transportTCP
		if c.tls {
			transport = transportTLS
		}
	}
	relay := relayUDP
	if s.tcp != nil {
		relay = relayTCP
	}
	family := familyIPv4
	switch v4, v6 := s.relays[famV4].sock != nil, s.relays[famV6].sock != nil; {
	case v4 && v6:
		family = familyDual
	case v6:
		family = familyIPv6
	}
	return kindOf(transport, relay, family)
}

// ports is the number of relay ports s holds: one per relayed address.
func (s *session) ports() int {
	n := 0
	for _, rl := range s.relays {
		if rl.sock != nil {
			n++
		}
	}
	return n
}

// EndReason is why an allocation ended: Record.Reason and the label of
// the allocations-ended metric.
type EndReason uint8

// The reasons an allocation ends.
const (
	EndExpired          EndReason = iota // its lifetime ran out
	EndRefreshZero                       // a Refresh with LIFETIME 0 deleted it (RFC 8656 §8.2)
	EndConnectionClosed                  // its TCP or TLS client connection closed (RFC 8656 §3.1)
	EndShutdown                          // the server stopped
	EndDrainTimeout                      // a drain reached its deadline
	endReasons
)

var endNames = [endReasons]string{
	EndExpired:          "expired",
	EndRefreshZero:      "refresh 0",
	EndConnectionClosed: "connection closed",
	EndShutdown:         "shutdown",
	EndDrainTimeout:     "drain timeout",
}

// String returns the reason as session records and metrics name it.
func (r EndReason) String() string {
	if r >= endReasons {
		return "unknown"
	}
	return endNames[r]
}
