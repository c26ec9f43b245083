package policy

import (
	"encoding/binary"
	"net/netip"
)

// prefixSet is a compact matcher over IPv4 and IPv6 prefixes: a linear scan
// over masked integers, which for the ~30 entries of a deny list is faster
// than any tree and never allocates.
type prefixSet struct {
	v4   []prefix4
	v6   []prefix6
	src4 []netip.Prefix // src4[i] is the prefix v4[i] was built from
	src6 []netip.Prefix // src6[i] is the prefix v6[i] was built from
}

// prefix4 is an IPv4 prefix as (network, mask).
type prefix4 struct{ addr, mask uint32 }

// prefix6 is an IPv6 prefix as (network, mask) split in two halves.
type prefix6 struct{ hi, lo, mhi, mlo uint64 }

// newPrefixSet builds a matcher from ps. Invalid prefixes are skipped. An
// IPv4-mapped IPv6 prefix of length 96 or more (::ffff:a.b.c.d/n) is turned
// into the IPv4 prefix it denotes, because addresses are unmapped before
// they are matched.
func newPrefixSet(ps []netip.Prefix) prefixSet {
	var s prefixSet
	for _, p := range ps {
		if !p.IsValid() {
			continue
		}
		p = p.Masked()
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Addr().Is4() {
			s.v4 = append(s.v4, prefix4{addr: v4bits(p.Addr()), mask: mask32(p.Bits())})
			s.src4 = append(s.src4, p)
			continue
		}
		hi, lo := v6bits(p.Addr())
		mhi, mlo := mask128(p.Bits())
		s.v6 = append(s.v6, prefix6{hi: hi, lo: lo, mhi: mhi, mlo: mlo})
		s.src6 = append(s.src6, p)
	}
	return s
}

// match4 returns the index in s.v4 of the first prefix holding x, or -1.
func (s *prefixSet) match4(x uint32) int {
	for i, p := range s.v4 {
		if x&p.mask == p.addr {
			return i
		}
	}
	return -1
}

// match6 returns the index in s.v6 of the first prefix holding (hi, lo), or
// -1.
func (s *prefixSet) match6(hi, lo uint64) int {
	for i, p := range s.v6 {
		if hi&p.mhi == p.hi && lo&p.mlo == p.lo {
			return i
		}
	}
	return -1
}

// v4bits returns an IPv4 address as a big-endian integer.
func v4bits(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// v6bits returns an IPv6 address as two big-endian halves.
func v6bits(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// mask32 returns the IPv4 netmask of the given length (0-32).
func mask32(bits int) uint32 {
	if bits == 0 {
		return 0
	}
	return ^uint32(0) << (32 - bits)
}

// mask128 returns the IPv6 netmask of the given length (0-128) in halves.
func mask128(bits int) (hi, lo uint64) {
	switch {
	case bits == 0:
		return 0, 0
	case bits <= 64:
		return ^uint64(0) << (64 - bits), 0
	default:
		return ^uint64(0), ^uint64(0) << (128 - bits)
	}
}
