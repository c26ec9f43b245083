package config

import (
	"encoding/json"
	"net/netip"
	"slices"
	"time"
)

// Drain configures how the edge stops (SIGTERM or `avedge drain`): it
// refuses new allocations, sending clients to a sibling edge, and lets the
// live ones end, for at most Timeout.
type Drain struct {
	// Timeout bounds the drain: allocations still live then are ended.
	Timeout time.Duration
	// AlternateServers are sibling edges (IP:port of their client
	// listeners) that new Allocate requests are sent to while draining
	// (ALTERNATE-SERVER, RFC 8489 §14.15): the first of the client's
	// address family. Without one of that family, they get 508.
	AlternateServers []netip.AddrPort
}

// MarshalJSON writes d with timeout as a duration string.
func (d Drain) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Timeout          string           `json:"timeout"`
		AlternateServers []netip.AddrPort `json:"alternate_servers"`
	}{formatDuration(d.Timeout), d.AlternateServers})
}

const (
	// defaultDrainTimeout is long enough for most calls to end.
	defaultDrainTimeout = 30 * time.Minute
	minDrainTimeout     = time.Second
	maxDrainTimeout     = 24 * time.Hour
)

// defaultDrain returns the drain defaults: 30 minutes, no siblings.
func defaultDrain() Drain { return Drain{Timeout: defaultDrainTimeout} }

// drain decodes the drain section.
func (p *parser) drain(e entry, dst *Drain) error {
	_, err := p.mapping(e, []field{
		{"timeout", func(e entry) error {
			d, err := p.duration(e, minDrainTimeout, maxDrainTimeout)
			dst.Timeout = d
			return err
		}},
		{"alternate_servers", func(e entry) error { return p.alternateServers(e, &dst.AlternateServers) }},
	})
	return err
}

// alternateServers decodes drain.alternate_servers or
// pool.alternate_servers: a list of distinct concrete "IP:port" addresses.
func (p *parser) alternateServers(e entry, dst *[]netip.AddrPort) error {
	items, err := p.list(e)
	if err != nil {
		return err
	}
	for _, it := range items {
		ap, err := p.serverAddr(it)
		if err != nil {
			return err
		}
		if slices.Contains(*dst, ap) {
			return p.fail(it, "%q: listed twice", ap)
		}
		*dst = append(*dst, ap)
	}
	return nil
}

// serverAddr decodes the concrete "IP:port" address of a TURN server, an
// IPv4-mapped address as its IPv4 form.
func (p *parser) serverAddr(e entry) (netip.AddrPort, error) {
	s, err := p.str(e)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap, err := netip.ParseAddrPort(s)
	switch {
	case err != nil:
		return ap, p.fail(e, "%q: not IP:port (write IPv6 as \"[2001:db8::8]:3478\")", s)
	case ap.Port() == 0:
		return ap, p.fail(e, "%q: port must be between 1 and 65535", s)
	case ap.Addr().Zone() != "":
		return ap, p.fail(e, "%q: zoned addresses are not supported", s)
	case ap.Addr().IsUnspecified() || ap.Addr().IsMulticast():
		return ap, p.fail(e, "%q: not the address of a server", s)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}
