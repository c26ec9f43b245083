package policy

import "net/netip"

// Ranges is a set of address ranges, matched as they are written: an
// IPv4-mapped address matches as the IPv4 address it carries, and no other
// interpretation of an IPv6 address (unlike PeerPolicy's deny list). It does
// not allocate and is safe for concurrent use.
type Ranges struct{ set prefixSet }

// NewRanges returns the set of prefixes; invalid ones are ignored and
// IPv4-mapped IPv6 prefixes are the IPv4 prefixes they denote.
func NewRanges(prefixes []netip.Prefix) *Ranges { return &Ranges{set: newPrefixSet(prefixes)} }

// Contains reports whether ip lies in one of the ranges.
func (r *Ranges) Contains(ip netip.Addr) bool {
	if r == nil || !ip.IsValid() {
		return false
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return r.set.match4(v4bits(ip)) >= 0
	}
	hi, lo := v6bits(ip)
	return r.set.match6(hi, lo) >= 0
}
