package probe

import (
	"fmt"
	"net/netip"
	"strings"
)

// natCheck looks for NAT in front of the edge in what the exchanges
// showed: an edge that answers from another address than the one the
// probe sent to, and a relayed address that peers cannot reach while the
// edge itself is reached on a public address (a 1:1 NAT whose public
// address the edge does not advertise). It also says whether the probe
// itself sits behind NAT.
func natCheck(obs []observation) Result {
	r := Result{Name: "nat"}
	if len(obs) == 0 {
		r.Status, r.Detail = Skip, "no answer from the edge to look at"
		return r
	}
	var notes, problems, remedies []string
	seen := make(map[string]bool)
	add := func(dst *[]string, s string) {
		if !seen[s] {
			seen[s] = true
			*dst = append(*dst, s)
		}
	}
	for _, o := range obs {
		if o.from.IsValid() && o.from != o.server {
			add(&problems, fmt.Sprintf("the edge answered %v from %v", o.server, o.from))
			add(&remedies, "the edge answers from another address than the one clients send to (a NAT or a multi-homed host): "+
				"clients drop such answers; bind the listener to the address clients use, or fix the NAT's mapping")
		}
		if o.mapped.IsValid() {
			add(&notes, "you are seen as "+o.mapped.Addr().String()+" "+behindNATShort(o.local, o.mapped))
		}
		if !o.relayed.IsValid() {
			continue
		}
		ra, sa := o.relayed.Addr(), o.server.Addr()
		switch {
		case ra.IsUnspecified() || ra.IsLoopback() && !sa.IsLoopback():
			add(&problems, fmt.Sprintf("the edge advertises relayed address %v, which no peer can reach", ra))
			add(&remedies, "set relay.address to the edge's public address")
		case !public(ra) && public(sa):
			add(&problems, fmt.Sprintf("the edge advertises a private relay address %v behind public address %v", ra, sa))
			add(&remedies, "the edge advertises a private relay address; set the external/advertised address (1:1 NAT): "+
				"relay.address must be the address peers reach the relay on")
		default:
			add(&notes, fmt.Sprintf("relayed address %v for edge %v", ra, sa))
		}
	}
	switch {
	case len(problems) > 0:
		r.Status = Warn
		r.Detail = strings.Join(append(problems, notes...), "; ")
		r.Remedy = strings.Join(remedies, "; ")
	default:
		r.Status = Pass
		r.Detail = "no sign of NAT in front of the edge; " + strings.Join(notes, "; ")
	}
	return r
}

// behindNATShort says in a few words whether the probe is behind NAT.
func behindNATShort(local, mapped netip.AddrPort) string {
	if local.Addr() == mapped.Addr() {
		return "(no NAT on your side)"
	}
	return "(from " + local.Addr().String() + ": NAT on your side)"
}

// public reports whether a is a globally routable unicast address: not
// private (RFC 1918, ULA), shared (100.64.0.0/10, RFC 6598), loopback,
// link-local or unspecified.
func public(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsGlobalUnicast() && !a.IsPrivate() && !shared.Contains(a)
}

// shared is the carrier-grade NAT range of RFC 6598.
var shared = netip.MustParsePrefix("100.64.0.0/10")
