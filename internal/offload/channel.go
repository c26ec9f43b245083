package offload

import (
	"fmt"
	"net/netip"
	"time"
)

// Channel is a channel binding as the offload sees it: ChannelData from
// Client to Listener on channel Number goes from Relayed to Peer, and
// Peer's datagrams to Relayed go back to Client from Listener on Number.
type Channel struct {
	// Client is the client's transport address (the source of its
	// ChannelData) and Listener the edge's address it sends to.
	Client, Listener netip.AddrPort
	// Number is the channel number, 0x4000 through 0x7FFF (RFC 8656's
	// whole range).
	Number uint16
	// Relayed is the allocation's relayed transport address and Peer the
	// peer's transport address.
	Relayed, Peer netip.AddrPort
	// Lifetime is how long from Install the permission for Peer lasts; the
	// kernel drops the channel's packets after it (Install again to
	// extend). Zero or negative installs an entry that has already expired.
	Lifetime time.Duration
}

// check returns an error wrapping ErrChannel unless c can be offloaded:
// a channel number in 0x4000-0x7FFF and four valid transport addresses of
// one family (IPv4, also as IPv4-mapped IPv6, or IPv6 without a zone).
// The program translates no family into the other, so an allocation whose
// relayed address is not of the client's family stays in user space.
func (c Channel) check() error {
	if c.Number < 0x4000 || c.Number > 0x7FFF {
		return fmt.Errorf("%w: channel number %#04x", ErrChannel, c.Number)
	}
	for _, a := range []netip.AddrPort{c.Client, c.Listener, c.Relayed, c.Peer} {
		if !a.IsValid() || a.Addr().Zone() != "" {
			return fmt.Errorf("%w: %v is not a transport address without a zone", ErrChannel, a)
		}
	}
	v4 := c.Client.Addr().Unmap().Is4()
	for _, a := range []netip.AddrPort{c.Listener, c.Relayed, c.Peer} {
		if a.Addr().Unmap().Is4() != v4 {
			return fmt.Errorf("%w: %v and %v are of different families (no IPv4-IPv6 translation in the kernel: the allocation stays in user space)",
				ErrChannel, c.Client, a)
		}
	}
	return nil
}

// Flow counts what was relayed in one direction: datagrams and bytes of
// application data (without the 4-byte ChannelData header).
type Flow struct {
	// Packets and Bytes are the datagrams and their application bytes.
	Packets, Bytes uint64
}

// Counters is what the kernel relayed for one Channel since its Install.
type Counters struct {
	// ToPeer counts client to peer, ToClient peer to client.
	ToPeer, ToClient Flow
}

// Stats is what the program did with the packets that matched an entry,
// summed over CPUs, since Open.
type Stats struct {
	// ToPeer and ToClient count relayed packets.
	ToPeer, ToClient uint64
	// Expired counts packets dropped on an entry whose permission expired.
	Expired uint64
	// PassPartial counts packets left to user space because their
	// checksum was left to the NIC (CHECKSUM_PARTIAL), PassNoChecksum
	// those without a UDP checksum, PassMTU those the ChannelData header
	// would have made too big for the egress interface.
	PassPartial, PassNoChecksum, PassMTU uint64
	// Errors counts packets dropped because a helper failed mid-rewrite.
	Errors uint64
	// PassNoNeighbour counts packets the XDP program left to user space
	// because the loader had not learnt their next hop's MAC address yet.
	PassNoNeighbour uint64
}
