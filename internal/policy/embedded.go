package policy

import (
	"encoding/binary"
	"net/netip"
	"slices"
)

// maxEmbedded bounds how many IPv4 addresses embeddedV4 can extract from one
// IPv6 address: four NAT64 local-use interpretations plus one ISATAP
// interface identifier is the worst case.
const maxEmbedded = 8

// embeddedV4 writes into out every IPv4 address that the IPv6 address a (not
// IPv4-mapped: callers unmap first) carries and that a host or translator
// could end up delivering to, and returns how many it wrote. All forms are
// checked, not only the first that applies, so that an attacker cannot pick
// the one interpretation the policy ignores; for the same reason an allow
// list entry covering one of them does not excuse another that is denied
// (see PeerPolicy).
func embeddedV4(a *[16]byte, out *[maxEmbedded]uint32) int {
	hi := binary.BigEndian.Uint64(a[0:8])
	mid := binary.BigEndian.Uint32(a[8:12])
	last := binary.BigEndian.Uint32(a[12:16])
	n := 0
	switch {
	case hi == 0 && mid == 0:
		// IPv4-compatible ::a.b.c.d, RFC 4291 §2.5.5.1 (deprecated, but
		// some stacks still route it as IPv4).
		out[n] = last
		n++
	case hi == 0 && mid == 0xffff0000:
		// IPv4-translated ::ffff:0:a.b.c.d, RFC 2765 §2.1 (SIIT).
		out[n] = last
		n++
	case hi == 0x0064ff9b00000000 && mid == 0:
		// NAT64 well-known prefix 64:ff9b::/96, RFC 6052 §2.1: the IPv4
		// address is the last 32 bits.
		out[n] = last
		n++
	case hi>>16 == 0x0064ff9b0001:
		// NAT64 local-use prefix 64:ff9b:1::/48, RFC 8215 §4: the operator
		// may use any RFC 6052 §2.2 prefix length of at least 48 inside
		// it, which we cannot know, so every such layout is extracted.
		// Bits 64-71 (the "u" octet) are skipped by each layout.
		out[n] = uint32(a[6])<<24 | uint32(a[7])<<16 | uint32(a[9])<<8 | uint32(a[10])    // /48
		out[n+1] = uint32(a[7])<<24 | uint32(a[9])<<16 | uint32(a[10])<<8 | uint32(a[11]) // /56
		out[n+2] = binary.BigEndian.Uint32(a[9:13])                                       // /64
		out[n+3] = last                                                                   // /96
		n += 4
	case hi>>48 == 0x2002:
		// 6to4 2002:V4ADDR::/48, RFC 3056 §2: the IPv4 address is bits
		// 16-47.
		out[n] = binary.BigEndian.Uint32(a[2:6])
		n++
	case hi>>32 == 0x20010000:
		// Teredo 2001:0000::/32, RFC 4380 §4: the server's IPv4 address
		// is bits 32-63 and the client's is the last 32 bits, inverted.
		out[n] = binary.BigEndian.Uint32(a[4:8])
		out[n+1] = ^last
		n += 2
	}
	// ISATAP interface identifier ::0:5efe:a.b.c.d or ::200:5efe:a.b.c.d,
	// RFC 5214 §6.1; it can follow any 64-bit prefix.
	if mid == 0x00005efe || mid == 0x02005efe {
		out[n] = last
		n++
	}
	return n
}

// CarriesAny reports whether the IPv6 address a carries, in one of the
// forms a host or translator could deliver to (see embeddedV4), one of the
// IPv4 addresses v4. It allocates nothing.
func CarriesAny(a netip.Addr, v4 []netip.Addr) bool {
	a = a.Unmap()
	if !a.Is6() || len(v4) == 0 {
		return false
	}
	b := a.As16()
	var out [maxEmbedded]uint32
	n := embeddedV4(&b, &out)
	for _, e := range out[:n] {
		var x [4]byte
		binary.BigEndian.PutUint32(x[:], e)
		if slices.Contains(v4, netip.AddrFrom4(x)) {
			return true
		}
	}
	return false
}
