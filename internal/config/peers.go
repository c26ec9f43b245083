package config

import (
	"net/netip"
	"strings"
)

// Peers is the peer address policy: which peer addresses relay ports may
// exchange packets with.
type Peers struct {
	// DefaultDeny applies the built-in deny list of special-purpose ranges
	// (loopback, private, link-local, ...).
	DefaultDeny bool `json:"default_deny"`
	// Allow lists ranges that are relayed to even if a deny list covers
	// them.
	Allow []netip.Prefix `json:"allow"`
	// Deny lists extra ranges to refuse.
	Deny []netip.Prefix `json:"deny"`
}

// peers decodes the peers section.
func (p *parser) peers(e entry, dst *Peers) error {
	_, err := p.mapping(e, []field{
		{"default_deny", func(e entry) error {
			b, err := p.boolean(e)
			if err == nil && !b {
				p.warn(e.path, "false: peers in loopback, private, link-local and other special-purpose ranges are relayed to unless peers.deny lists them")
			}
			dst.DefaultDeny = b
			return err
		}},
		{"allow", func(e entry) error { return p.prefixes(e, &dst.Allow) }},
		{"deny", func(e entry) error { return p.prefixes(e, &dst.Deny) }},
	})
	return err
}

// prefixes decodes a list of CIDR prefixes; a bare address (without a
// zone) is a /32 or /128. Host bits must be zero, so that "10.0.0.5/8" is not mistaken for a
// single host.
func (p *parser) prefixes(e entry, dst *[]netip.Prefix) error {
	items, err := p.list(e)
	if err != nil {
		return err
	}
	for _, item := range items {
		s, err := p.str(item)
		if err != nil {
			return err
		}
		var pfx netip.Prefix
		if strings.Contains(s, "/") {
			pfx, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(s); err == nil && a.Zone() == "" {
				pfx = netip.PrefixFrom(a, a.BitLen())
			}
		}
		switch {
		case err != nil || !pfx.IsValid():
			return p.fail(item, "%q: not an IP address or CIDR prefix", s)
		case pfx != pfx.Masked():
			return p.fail(item, "%q: host bits set (did you mean %q?)", s, pfx.Masked().String())
		}
		*dst = append(*dst, pfx)
	}
	return nil
}
