package allocation

import (
	"fmt"
	"net/netip"
	"strconv"
)

// Protocol is the transport protocol between client and server, with its
// IANA protocol number.
type Protocol uint8

// Transport protocols of a 5-tuple.
const (
	TCP Protocol = 6
	UDP Protocol = 17
)

// String returns "udp", "tcp" or the protocol number.
func (p Protocol) String() string {
	switch p {
	case UDP:
		return "udp"
	case TCP:
		return "tcp"
	default:
		return strconv.Itoa(int(p))
	}
}

// FiveTuple identifies an allocation (RFC 8656 §2): the client's transport
// address as seen by the server, the server address it contacted, and the
// transport protocol. It is comparable and used as a map key, so callers
// must build it from unmapped, zone-free addresses consistently.
type FiveTuple struct {
	Client, Server netip.AddrPort
	Proto          Protocol
}

// String formats the 5-tuple as "proto client->server".
func (f FiveTuple) String() string {
	return fmt.Sprintf("%v %v->%v", f.Proto, f.Client, f.Server)
}
