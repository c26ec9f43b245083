package stats

// Dialect is the protocol an allocation speaks with its client.
type Dialect uint8

// The dialects.
const (
	DialectRFC    Dialect = iota // STUN/TURN of RFC 8489, RFC 8656 and RFC 6062
	DialectMSTURN                // [MS-TURN], the dialect of Lync and Skype for Business
	NumDialects
)

var dialectNames = [NumDialects]string{DialectRFC: "rfc", DialectMSTURN: "ms-turn"}

// String returns the label of the dialect: "rfc" or "ms-turn".
func (d Dialect) String() string { return name(dialectNames[:], int(d)) }

// Transport is the transport of an allocation's client connection.
type Transport uint8

// The client transports.
const (
	TransportUDP       Transport = iota
	TransportTCP                 // plain TURN over TCP, RFC framing or [MS-TURN] framing
	TransportTLS                 // TURN over TLS 1.2+
	TransportPseudoTLS           // [MS-TURN] framing after the pseudo-TLS handshake (§2.1.1)
	NumTransports
)

var transportNames = [NumTransports]string{
	TransportUDP: "udp", TransportTCP: "tcp", TransportTLS: "tls", TransportPseudoTLS: "pseudo-tls",
}

// String returns the label of the transport: "udp", "tcp", "tls" or
// "pseudo-tls".
func (t Transport) String() string { return name(transportNames[:], int(t)) }

// RelayProtocol is the transport of an allocation's relayed address.
type RelayProtocol uint8

// The relayed transports.
const (
	RelayUDP RelayProtocol = iota
	RelayTCP               // RFC 6062
	NumRelayProtocols
)

var relayNames = [NumRelayProtocols]string{RelayUDP: "udp", RelayTCP: "tcp"}

// String returns the label of the relayed transport: "udp" or "tcp".
func (r RelayProtocol) String() string { return name(relayNames[:], int(r)) }

// Family is the address family of an allocation's relayed addresses.
type Family uint8

// The relayed address families.
const (
	FamilyIPv4 Family = iota
	FamilyIPv6
	FamilyDual // an IPv4 and an IPv6 relayed address (RFC 8656 §7.2)
	NumFamilies
)

var familyNames = [NumFamilies]string{FamilyIPv4: "ipv4", FamilyIPv6: "ipv6", FamilyDual: "dual"}

// String returns the label of the family: "ipv4", "ipv6" or "dual".
func (f Family) String() string { return name(familyNames[:], int(f)) }

// AllocationKind is an allocation's dialect, client transport, relayed
// transport and relayed address family together, as a small index: the
// labels of the allocation metrics.
type AllocationKind uint8

// NumAllocationKinds is the number of AllocationKinds.
const NumAllocationKinds = int(NumDialects) * int(NumTransports) * int(NumRelayProtocols) * int(NumFamilies)

// KindOf returns the AllocationKind of the given axes.
func KindOf(d Dialect, t Transport, r RelayProtocol, f Family) AllocationKind {
	return AllocationKind(((int(d)*int(NumTransports)+int(t))*int(NumRelayProtocols)+int(r))*int(NumFamilies) + int(f))
}

// Dialect returns the dialect of the allocation.
func (k AllocationKind) Dialect() Dialect {
	return Dialect(int(k) / (int(NumTransports) * int(NumRelayProtocols) * int(NumFamilies)))
}

// Transport returns the client transport of the allocation.
func (k AllocationKind) Transport() Transport {
	return Transport(int(k) / (int(NumRelayProtocols) * int(NumFamilies)) % int(NumTransports))
}

// Relay returns the relayed transport of the allocation.
func (k AllocationKind) Relay() RelayProtocol {
	return RelayProtocol(int(k) / int(NumFamilies) % int(NumRelayProtocols))
}

// Family returns the relayed address family of the allocation.
func (k AllocationKind) Family() Family { return Family(int(k) % int(NumFamilies)) }

// name returns names[i], or "unknown" for an index out of range.
func name(names []string, i int) string {
	if i < 0 || i >= len(names) {
		return "unknown"
	}
	return names[i]
}
