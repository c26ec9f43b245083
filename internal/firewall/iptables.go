package firewall

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/avedge/avedge/internal/config"
)

// IPTables returns the IPv4 rules of c as iptables-restore input for the
// filter table: INPUT and OUTPUT drop what they do not accept, accept
// replies (conntrack), loopback and exactly c's IPv4 rules (a rule on ::
// covers IPv4 too, as a dual-stack socket does), and end with a counting
// rule. Load it with iptables-restore, which replaces the filter table.
func IPTables(c *config.Config) string { return xtables(c, false) }

// IP6Tables returns the IPv6 rules of c, as IPTables does the IPv4 ones,
// for ip6tables-restore; it also accepts IPv6 neighbour discovery.
func IP6Tables(c *config.Config) string { return xtables(c, true) }

// xtables writes the iptables-restore (v6: ip6tables-restore) text of c.
func xtables(c *config.Config, v6 bool) string {
	tool, nd := "iptables", ""
	if v6 {
		tool = "ip6tables"
		for _, t := range []string{"neighbour-solicitation", "neighbour-advertisement", "router-advertisement"} {
			nd += "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type " + t + " -j ACCEPT\n"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# avedge firewall rules for %s, written by "avedge firewall --format %s".
# INPUT and OUTPUT drop what they do not accept: add management access (such as
# ssh from your admin network) where marked before loading. Check: %s-restore --test FILE
*filter
:INPUT DROP [0:0]
:OUTPUT DROP [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
# lo: relayed traffic to the edge's own addresses travels here, so these rules
# are no defence against hairpin traffic; avedge refuses such peers itself (off
# its relay ports) and peers.ports bounds the rest.
-A INPUT -i lo -j ACCEPT
%s# management access goes here, such as: -A INPUT -s 10.0.0.0/24 -p tcp -m tcp --dport 22 -j ACCEPT
`, c.Source, tool, tool, nd)
	rules := Rules(c)
	for _, dir := range []Direction{Inbound, Outbound} {
		chain := "INPUT"
		if dir == Outbound {
			chain = "OUTPUT"
			b.WriteString("-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A OUTPUT -o lo -j ACCEPT\n")
			if v6 {
				for _, t := range []string{"neighbour-solicitation", "neighbour-advertisement", "router-solicitation"} {
					b.WriteString("-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type " + t + " -j ACCEPT\n")
				}
			}
			b.WriteString("# management access goes here, such as: -A OUTPUT -p udp -m udp --dport 53 -j ACCEPT\n")
		}
		for _, r := range rules {
			if r.Direction == dir && inFamily(r.Local, v6) {
				b.WriteString(xtRule(chain, r) + "\n")
			}
		}
		fmt.Fprintf(&b, "-A %s -m comment --comment \"not accepted above: dropped\"\n", chain)
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// inFamily reports whether a rule on local address a belongs in the IPv6
// (v6) or IPv4 ruleset; :: belongs in both.
func inFamily(a netip.Addr, v6 bool) bool {
	if a.IsUnspecified() && a.Is6() {
		return true
	}
	return a.Is6() == v6
}

// xtRule writes r as an iptables rule appended to chain; a named interface
// is the one inbound packets arrive on (-i) and outbound ones leave by (-o).
func xtRule(chain string, r Rule) string {
	dir, local, remote, ifname, bits := "-d", "--dport", "--sport", "-i", 32
	if r.Direction == Outbound {
		dir, local, remote, ifname = "-s", "--sport", "--dport", "-o"
	}
	if r.Local.Is6() {
		bits = 128
	}
	parts := []string{"-A", chain}
	if r.Device != "" {
		parts = append(parts, ifname, r.Device)
	}
	if !r.Local.IsUnspecified() {
		parts = append(parts, dir, fmt.Sprintf("%s/%d", r.Local, bits))
	}
	proto := strings.ToLower(r.Protocol)
	parts = append(parts, "-p", proto, "-m", proto, local, r.LocalPorts.join(":"))
	if !r.RemotePorts.Any() {
		parts = append(parts, remote, r.RemotePorts.join(":"))
	}
	parts = append(parts, "-m", "comment", "--comment", fmt.Sprintf("%q", comment(r)), "-j", "ACCEPT")
	return strings.Join(parts, " ")
}
