package config

import (
	"net/netip"
	"strconv"
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
	// Ports are the peer ports relayed to, by ChannelBind, Send, RFC 6062
	// Connect and the [MS-TURN] Send and Set Active Destination.
	Ports []PortRange `json:"ports"`
}

// PortRange is an inclusive range of ports: the first and the last.
type PortRange [2]uint16

// defaultPeerPorts refuses the well-known ports (below 1024): the media
// of WebRTC peers, SFUs (Jitsi 10000, mediasoup, Janus and LiveKit in
// 10000-60000, LiveKit's 7881), and other TURN servers' relayed
// addresses (49152-65535 by default, coturn's and ours 50000-59999) all
// use registered or dynamic ports, while the services a relay must not
// become a proxy to (SSH, SMTP, DNS, NTP, SNMP, HTTP, LDAP, ...) sit below
// 1024. It matches the peer ports the generated firewall allows.
func defaultPeerPorts() []PortRange { return []PortRange{{1024, 65535}} }

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
		{"ports", func(e entry) error { return p.peerPorts(e, &dst.Ports) }},
	})
	return err
}

// peerPorts decodes peers.ports: a non-empty list of ports ("3478") and
// ranges ("1024-65535"), 1-65535; port 0 is never a peer's.
func (p *parser) peerPorts(e entry, dst *[]PortRange) error {
	items, err := p.list(e)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return p.fail(e, "must list at least one port or range (leave the key out for the default 1024-65535)")
	}
	var out []PortRange
	for _, item := range items {
		v, err := p.scalar(item, "a port or a port range")
		if err != nil {
			return err
		}
		s := v.Value
		lo, hi, ok := parsePortRange(s)
		if !ok {
			n, err := strconv.Atoi(s)
			lo, hi, ok = n, n, err == nil
		}
		switch {
		case !ok:
			return p.fail(item, "%q: not a port or a port range such as \"1024-65535\"", s)
		case lo < 1 || hi > 65535:
			return p.fail(item, "%q: ports must lie within 1-65535", s)
		case lo > hi:
			return p.fail(item, "%q: first port above last port", s)
		}
		out = append(out, PortRange{uint16(lo), uint16(hi)})
	}
	*dst = out
	return nil
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
