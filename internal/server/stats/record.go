package stats

import (
	"net/netip"
	"time"
)

// Record describes an allocation that has ended, for audit and accounting,
// or with Interim one still live, with its totals so far.
type Record struct {
	// Interim marks the record of a live allocation: End is when it was
	// taken and Reason is empty.
	Interim bool
	// Username is the credential the allocation was created with.
	Username string
	// Identity is whom the credential names: the identity part of an
	// ephemeral username, or the username of a static user.
	Identity string
	// Tenant names the tenant of the credential ("default" for the
	// edge's own realm; see auth.TenantOptions).
	Tenant string
	// Client and Relayed are the client's transport address and the
	// relayed address the server gave it.
	Client, Relayed netip.AddrPort
	// Additional is the second relayed address of a dual allocation (IPv6
	// next to an IPv4 Relayed), or the zero AddrPort.
	Additional netip.AddrPort
	// Dialect is the protocol the client spoke: "rfc" or "ms-turn".
	Dialect string
	// Transport is the protocol of the client connection: "udp", "tcp",
	// "tls" or "pseudo-tls".
	Transport string
	// RelayProtocol is the protocol of the relayed address: "udp", or
	// "tcp" for an RFC 6062 TCP allocation.
	RelayProtocol string
	// Start is when the allocation was created.
	Start time.Time
	// End is when the allocation ended and Reason why ("refresh 0",
	// "expired", "shutdown").
	End    time.Time
	Reason string
	// Packets and bytes relayed each way.
	ToPeerPackets, ToPeerBytes, ToClientPackets, ToClientBytes uint64
}
