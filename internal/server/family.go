package server

import (
	"net/netip"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/stunproto"
)

// Address families of relayed transport addresses, as indices into
// shared.families and session.relays.
const (
	famV4 = iota
	famV6
	families
)

// familyOf returns the family index of ip; an IPv4-mapped IPv6 address is
// IPv4, as RFC 8656 relays it to an IPv4 peer.
func familyOf(ip netip.Addr) int {
	if ip.Unmap().Is4() {
		return famV4
	}
	return famV6
}

// familyIndex returns the family index of a STUN address family value
// (stunproto.FamilyIPv4 or FamilyIPv6).
func familyIndex(stunFamily uint8) int {
	if stunFamily == stunproto.FamilyIPv4 {
		return famV4
	}
	return famV6
}

// stunFamilies maps family indices to STUN address family values.
var stunFamilies = [families]uint8{famV4: stunproto.FamilyIPv4, famV6: stunproto.FamilyIPv6}

// relayFamily is where the relayed addresses of one family come from. A
// family the server does not offer has an invalid addr and a nil pool.
type relayFamily struct {
	addr netip.Addr
	pool *allocation.PortPool
}

// offered reports whether the server hands out relayed addresses of the
// family.
func (f *relayFamily) offered() bool { return f.pool != nil }

// defaultFamily returns the family of the relayed address of an Allocate
// without REQUESTED-ADDRESS-FAMILY: IPv4, or IPv6 on an edge that offers
// only IPv6. RFC 8656 §7.2 step 7 answers 440 there instead, which would
// leave every client that does not send the attribute (most do not)
// without a relay on an IPv6-only edge; coturn's
// allocation-default-address-family=ipv6 makes the same choice.
func defaultFamily(fams *[families]relayFamily) int {
	if !fams[famV4].offered() && fams[famV6].offered() {
		return famV6
	}
	return famV4
}
