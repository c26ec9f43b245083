package server

import (
	"net/netip"
	"time"
)

// Record describes an allocation that has ended, for audit and accounting.
type Record struct {
	// Username is the credential the allocation was created with.
	Username string
	// Client and Relayed are the client's transport address and the
	// relayed address the server gave it.
	Client, Relayed netip.AddrPort
	// Additional is the second relayed address of a dual allocation (IPv6
	// next to an IPv4 Relayed), or the zero AddrPort.
	Additional netip.AddrPort
	// End is when the allocation ended and Reason why ("refresh 0",
	// "expired", "shutdown").
	End    time.Time
	Reason string
	// Packets and bytes relayed each way.
	ToPeerPackets, ToPeerBytes, ToClientPackets, ToClientBytes uint64
}
