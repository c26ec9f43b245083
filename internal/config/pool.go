package config

import (
	"net/netip"
	"slices"
)

// Pool names the sibling edges of a pool that this edge sends clients to
// when it cannot take a new allocation itself.
type Pool struct {
	// AlternateServers are sibling edges (IP:port of their client
	// listeners). An Allocate refused for capacity (allocations_total,
	// quotas.capacity, no free relay port) gets 300 Try Alternate with one
	// of them, of the client's address family and in turn, instead of 508
	// (RFC 8489 §10, RFC 8656 §7.2); so does one that arrives while the
	// edge drains, unless drain.alternate_servers names others.
	AlternateServers []netip.AddrPort `json:"alternate_servers"`
}

// pool decodes the pool section.
func (p *parser) pool(e entry, dst *Pool) error {
	_, err := p.mapping(e, []field{
		{"alternate_servers", func(e entry) error { return p.alternateServers(e, &dst.AlternateServers) }},
	})
	return err
}

// finishAlternates leaves this edge's own listeners out of
// pool.alternate_servers and drain.alternate_servers, so that every node
// of a pool can share one list naming all of them (with ${NODE_IP} in its
// listeners): an edge never redirects a client to itself.
func (p *parser) finishAlternates() error {
	own := func(ap netip.AddrPort) bool {
		return slices.ContainsFunc(p.cfg.Listeners, func(l Listener) bool {
			return l.Address.Addr().Unmap() == ap.Addr() && l.Address.Port() == ap.Port()
		})
	}
	p.cfg.Pool.AlternateServers = slices.DeleteFunc(p.cfg.Pool.AlternateServers, own)
	p.cfg.Drain.AlternateServers = slices.DeleteFunc(p.cfg.Drain.AlternateServers, own)
	return nil
}
