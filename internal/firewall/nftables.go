package firewall

import (
	"fmt"
	"strings"

	"github.com/avedge/avedge/internal/config"
)

// NFTables returns a complete nftables ruleset for c: the table inet avedge
// with an input and an output chain that drop what they do not accept,
// accept replies (conntrack), loopback, IPv6 neighbour discovery and
// exactly the rules of c, and end with a counter of what they drop. Load it
// with nft -f; it replaces an earlier avedge table.
func NFTables(c *config.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, `#!/usr/sbin/nft -f
# avedge firewall rules for %s, written by "avedge firewall --format nftables".
# Both chains drop what they do not accept: add management access (such as ssh
# from your admin network) where marked before loading. Check: nft -c -f FILE
table inet avedge
delete table inet avedge
table inet avedge {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		# lo: relayed traffic to the edge's own addresses travels here, so these
		# rules are no defence against hairpin traffic; avedge refuses such peers
		# itself (off its relay ports) and peers.ports bounds the rest.
		iifname "lo" accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept
		# management access goes here, such as: ip saddr 10.0.0.0/24 tcp dport 22 accept
`, c.Source)
	rules := Rules(c)
	for _, r := range rules {
		if r.Direction == Inbound {
			b.WriteString("\t\t" + nftRule(r) + "\n")
		}
	}
	b.WriteString(`		counter comment "not accepted above: dropped"
	}
	chain output {
		type filter hook output priority filter; policy drop;
		ct state established,related accept
		oifname "lo" accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept
		# management access goes here, such as: udp dport 53 accept
`)
	for _, r := range rules {
		if r.Direction == Outbound {
			b.WriteString("\t\t" + nftRule(r) + "\n")
		}
	}
	b.WriteString(`		counter comment "not accepted above: dropped"
	}
}
`)
	return b.String()
}

// nftRule writes r as an nftables accept rule: the edge's address is the
// destination of inbound and the source of outbound packets, and a named
// interface the one inbound packets arrive on (iifname) and outbound ones
// leave by (oifname).
func nftRule(r Rule) string {
	var parts []string
	dir, local, remote, ifname := "daddr", "dport", "sport", "iifname"
	if r.Direction == Outbound {
		dir, local, remote, ifname = "saddr", "sport", "dport", "oifname"
	}
	if r.Device != "" {
		parts = append(parts, fmt.Sprintf("%s %q", ifname, r.Device))
	}
	switch a := r.Local; {
	case a.IsUnspecified() && a.Is4():
		parts = append(parts, "meta nfproto ipv4")
	case a.IsUnspecified():
	case a.Is4():
		parts = append(parts, "ip "+dir+" "+a.String())
	default:
		parts = append(parts, "ip6 "+dir+" "+a.String())
	}
	proto := strings.ToLower(r.Protocol)
	parts = append(parts, proto+" "+local+" "+r.LocalPorts.String())
	if !r.RemotePorts.Any() {
		parts = append(parts, proto+" "+remote+" "+r.RemotePorts.String())
	}
	parts = append(parts, fmt.Sprintf("accept comment %q", comment(r)))
	return strings.Join(parts, " ")
}

// comment is the comment of r's rule in nftables and iptables.
func comment(r Rule) string {
	return string(r.Direction) + " " + r.Label() + ": " + r.Purpose
}
