package probe

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// resolved is the outcome of the DNS check for one host: the address the
// other checks use, if any.
type resolved struct {
	addr netip.Addr
	ok   bool
}

// dnsCheck resolves host (A and AAAA) and picks the address to probe: the
// first IPv4 address, else the first IPv6 one, as a client preferring IPv4
// would. An IP literal passes trivially.
func (p *prober) dnsCheck(host string) (Result, resolved) {
	r := Result{Name: "dns " + host}
	if ip, err := netip.ParseAddr(host); err == nil {
		r.Status, r.Detail = Pass, "IP address, no lookup needed"
		return r, resolved{addr: ip.Unmap(), ok: true}
	}
	var v4, v6 []netip.Addr
	var errs []string
	for _, q := range []struct {
		network, rr string
		dst         *[]netip.Addr
	}{{"ip4", "A", &v4}, {"ip6", "AAAA", &v6}} {
		ctx, cancel := context.WithTimeout(p.ctx, p.opts.Timeout)
		addrs, err := p.opts.Network.LookupNetIP(ctx, q.network, host)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", q.rr, err))
		}
		for _, a := range addrs {
			*q.dst = append(*q.dst, a.Unmap())
		}
	}
	if len(v4)+len(v6) == 0 {
		r.Status = Fail
		r.Detail = "no address for " + host
		if len(errs) > 0 {
			r.Detail += " (" + strings.Join(errs, "; ") + ")"
		}
		r.Remedy = fmt.Sprintf("publish A (and AAAA) records for %s in DNS that clients' networks can query, "+
			"or check the name: with split-horizon DNS it must resolve from outside too", host)
		return r, resolved{}
	}
	// IPv4 first: it is what most clients' networks reach.
	pick := slices.Concat(v4, v6)[0]
	r.Status = Pass
	r.Detail = fmt.Sprintf("A %s; AAAA %s; probing %s", addrList(v4), addrList(v6), pick)
	return r, resolved{addr: pick, ok: true}
}

// addrList formats addresses for a detail line, "none" for none.
func addrList(addrs []netip.Addr) string {
	if len(addrs) == 0 {
		return "none"
	}
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, " ")
}
