package policy

import "net/netip"

// defaultDeny lists the ranges refused unless an allow list matches them.
// Sources: the IANA IPv4 and IPv6 Special-Purpose Address Registries
// (RFC 6890 and updates), keeping every entry whose "Globally Reachable" or
// "Forwardable" column is False, plus multicast and the reserved class E.
// IPv4 addresses embedded in IPv6 (mapped, NAT64, 6to4, Teredo, ISATAP) are
// not listed here: they are extracted and matched against the IPv4 entries,
// see embedded.go. The deprecated IPv4-compatible and SIIT forms are refused
// whole, whatever they embed: no peer uses them any more.
var defaultDeny = []string{
	// IPv4 Special-Purpose Address Registry.
	"0.0.0.0/8",       // "this network", RFC 791 / RFC 1122 §3.2.1.3
	"10.0.0.0/8",      // private use, RFC 1918
	"100.64.0.0/10",   // shared address space (CGN), RFC 6598
	"127.0.0.0/8",     // loopback, RFC 1122 §3.2.1.3
	"169.254.0.0/16",  // link local incl. 169.254.169.254 metadata, RFC 3927
	"172.16.0.0/12",   // private use, RFC 1918
	"192.0.0.0/24",    // IETF protocol assignments, RFC 6890 §2.1
	"192.0.2.0/24",    // documentation TEST-NET-1, RFC 5737
	"192.88.99.0/24",  // deprecated 6to4 relay anycast, RFC 7526
	"192.168.0.0/16",  // private use, RFC 1918
	"198.18.0.0/15",   // benchmarking, RFC 2544
	"198.51.100.0/24", // documentation TEST-NET-2, RFC 5737
	"203.0.113.0/24",  // documentation TEST-NET-3, RFC 5737
	"224.0.0.0/4",     // multicast, RFC 5771
	"240.0.0.0/4",     // reserved incl. 255.255.255.255 broadcast, RFC 1112 / RFC 919
	// IPv6 Special-Purpose Address Registry.
	"::/128",         // unspecified, RFC 4291 §2.5.2
	"::1/128",        // loopback, RFC 4291 §2.5.3
	"100::/64",       // discard-only, RFC 6666
	"100:0:0:1::/64", // dummy IPv6 prefix, RFC 9780
	"2001:2::/48",    // benchmarking, RFC 5180
	"2001:10::/28",   // deprecated ORCHID, RFC 4843
	"2001:db8::/32",  // documentation, RFC 3849
	"3fff::/20",      // documentation, RFC 9637
	"5f00::/16",      // SRv6 SIDs, RFC 9602
	"fc00::/7",       // unique local, RFC 4193
	"fe80::/10",      // link-local unicast, RFC 4291 §2.5.6
	"fec0::/10",      // deprecated site-local, RFC 3879
	"ff00::/8",       // multicast, RFC 4291 §2.7
	// Obsolete IPv4-in-IPv6 forms, refused whole (:: and ::1 are above).
	"::/96",           // IPv4-compatible ::a.b.c.d, deprecated by RFC 4291 §2.5.5.1
	"::ffff:0:0:0/96", // IPv4-translated ::ffff:0:a.b.c.d, RFC 2765 §2.1 (SIIT, obsolete)
}

// DefaultDeny returns a fresh copy of the built-in deny list that
// NewPeerPolicy adds when its defaults argument is true.
func DefaultDeny() []netip.Prefix {
	out := make([]netip.Prefix, len(defaultDeny))
	for i, s := range defaultDeny {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}
