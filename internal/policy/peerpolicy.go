package policy

import (
	"fmt"
	"net/netip"
)

// PeerPolicy decides whether a TURN allocation may exchange packets with a
// peer IP address. It is immutable after NewPeerPolicy and safe for
// concurrent use.
//
// An address that matches the allow list is allowed. Otherwise it is denied
// if it matches the deny list, or if any IPv4 address embedded in it (see
// embeddedV4) matches the deny list and not the allow list; else it is
// allowed. An embedded IPv4 address on the allow list therefore only lifts
// the deny entries for that one interpretation: an IPv6 address whose other
// interpretation is denied stays denied, so that allowing an internal IPv4
// range cannot open the ranges that a translator or tunnel applying
// another interpretation would reach. Invalid and unspecified addresses
// (0.0.0.0, ::, ::ffff:0.0.0.0) are always denied. Zones are ignored and
// IPv4-mapped addresses are matched as the IPv4 address they carry.
type PeerPolicy struct {
	allow prefixSet
	deny  prefixSet
}

// NewPeerPolicy returns a policy with the given allow and deny lists; when
// defaults is true the built-in DefaultDeny list is appended to deny.
// Invalid prefixes are ignored; prefixes are masked, and IPv4-mapped IPv6
// prefixes are treated as the IPv4 prefixes they denote.
func NewPeerPolicy(allow, deny []netip.Prefix, defaults bool) *PeerPolicy {
	d := append([]netip.Prefix(nil), deny...)
	if defaults {
		d = append(d, DefaultDeny()...)
	}
	return &PeerPolicy{allow: newPrefixSet(allow), deny: newPrefixSet(d)}
}

// Allowed reports whether packets may be relayed to or from ip. It does not
// allocate and is meant to be called per packet.
func (p *PeerPolicy) Allowed(ip netip.Addr) bool {
	return p.decide(ip).allowed
}

// Check returns nil if ip is allowed and otherwise an error wrapping
// ErrDenied that says why.
func (p *PeerPolicy) Check(ip netip.Addr) error {
	v := p.decide(ip)
	switch {
	case v.allowed:
		return nil
	case v.why == whyInvalid:
		return fmt.Errorf("%w: invalid address", ErrDenied)
	case v.why == whyUnspecified:
		return fmt.Errorf("%w: %v is unspecified", ErrDenied, ip)
	case v.why == whyEmbedded:
		return fmt.Errorf("%w: %v embeds %v in %v", ErrDenied, ip, v4addr(v.v4), p.deny.src4[v.idx])
	case v.why == whyDeny4:
		return fmt.Errorf("%w: %v in %v", ErrDenied, ip, p.deny.src4[v.idx])
	default:
		return fmt.Errorf("%w: %v in %v", ErrDenied, ip, p.deny.src6[v.idx])
	}
}

// why says which rule produced a verdict.
type why uint8

// Reasons for a verdict.
const (
	whyNoMatch     why = iota // nothing matched: allowed
	whyAllow                  // allow list matched
	whyInvalid                // invalid netip.Addr
	whyUnspecified            // 0.0.0.0 or ::
	whyDeny4                  // the IPv4 address matched deny.v4[idx]
	whyDeny6                  // the IPv6 address matched deny.v6[idx]
	whyEmbedded               // embedded IPv4 v4 matched deny.v4[idx]
)

// verdict is the outcome of decide, detailed enough for Check's message.
type verdict struct {
	allowed bool
	why     why
	idx     int
	v4      uint32
}

// decide applies the policy rule documented on PeerPolicy.
func (p *PeerPolicy) decide(ip netip.Addr) verdict {
	if !ip.IsValid() {
		return verdict{why: whyInvalid}
	}
	ip = ip.Unmap().WithZone("")
	if ip.IsUnspecified() {
		return verdict{why: whyUnspecified}
	}
	if ip.Is4() {
		x := v4bits(ip)
		if p.allow.match4(x) >= 0 {
			return verdict{allowed: true, why: whyAllow}
		}
		if i := p.deny.match4(x); i >= 0 {
			return verdict{why: whyDeny4, idx: i}
		}
		return verdict{allowed: true, why: whyNoMatch}
	}
	hi, lo := v6bits(ip)
	if p.allow.match6(hi, lo) >= 0 {
		return verdict{allowed: true, why: whyAllow}
	}
	if i := p.deny.match6(hi, lo); i >= 0 {
		return verdict{why: whyDeny6, idx: i}
	}
	b := ip.As16()
	var emb [maxEmbedded]uint32
	n := embeddedV4(&b, &emb)
	for _, x := range emb[:n] {
		if i := p.deny.match4(x); i >= 0 && p.allow.match4(x) < 0 {
			return verdict{why: whyEmbedded, idx: i, v4: x}
		}
	}
	return verdict{allowed: true, why: whyNoMatch}
}

// v4addr turns a big-endian integer back into an IPv4 address.
func v4addr(x uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
}
