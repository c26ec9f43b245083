package config

import (
	"net/netip"
	"slices"
)

// Listener is a client-facing socket.
type Listener struct {
	// Protocol is "udp"; "tcp" and "tls" are planned.
	Protocol string `json:"protocol"`
	// Address is the local address to bind, such as 0.0.0.0:3478 or
	// [::]:3478.
	Address netip.AddrPort `json:"address"`
}

// listeners decodes the listeners list, refusing duplicates.
func (p *parser) listeners(e entry, dst *[]Listener) error {
	items, err := p.list(e)
	if err != nil {
		return err
	}
	out := make([]Listener, 0, len(items))
	for _, item := range items {
		l, err := p.listener(item)
		if err != nil {
			return err
		}
		if j := slices.Index(out, l); j >= 0 {
			return p.fail(item, "duplicate of listeners[%d] (%s %s)", j, l.Protocol, l.Address)
		}
		out = append(out, l)
		p.at[item.path] = item
	}
	*dst = out
	return nil
}

// listener decodes one listener.
func (p *parser) listener(e entry) (Listener, error) {
	var l Listener
	seen, err := p.mapping(e, []field{
		{"protocol", func(e entry) error {
			s, err := p.str(e)
			if err != nil {
				return err
			}
			switch s {
			case "udp":
			case "tcp", "tls":
				return p.fail(e, "%q: not supported yet (planned)", s)
			default:
				return p.fail(e, "%q: unknown protocol (want \"udp\")", s)
			}
			l.Protocol = s
			return nil
		}},
		{"address", func(e entry) error {
			s, err := p.str(e)
			if err != nil {
				return err
			}
			ap, err := netip.ParseAddrPort(s)
			if err != nil {
				return p.fail(e, "%q: not an IP:port address (write IPv6 as \"[::]:3478\")", s)
			}
			if ap.Port() == 0 {
				return p.fail(e, "%q: port must be between 1 and 65535", s)
			}
			l.Address = ap
			return nil
		}},
	})
	if err != nil {
		return Listener{}, err
	}
	return l, p.require(e, seen, "protocol", "address")
}

// finishListeners requires at least one listener.
func (p *parser) finishListeners() error {
	if len(p.cfg.Listeners) == 0 {
		return p.failAt(p.where("listeners"), "listeners", "at least one listener is required")
	}
	return nil
}
