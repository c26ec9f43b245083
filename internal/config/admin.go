package config

import "net/netip"

// Admin configures the admin HTTP endpoints (/metrics, /healthz,
// /readyz).
type Admin struct {
	// Listen is the TCP address of the admin listener: an IP address of
	// the internal interface and a port.
	Listen netip.AddrPort `json:"listen"`
}

// admin decodes the admin section; its presence enables the listener.
func (p *parser) admin(e entry, dst **Admin) error {
	a := &Admin{}
	seen, err := p.mapping(e, []field{
		{"listen", func(e entry) error { return p.adminListen(e, &a.Listen) }},
	})
	if err != nil {
		return err
	}
	if err := p.require(e, seen, "listen"); err != nil {
		return err
	}
	*dst = a
	return nil
}

// adminListen decodes admin.listen: "IP:port", a concrete address. A
// wildcard address draws a warning: the endpoints are unauthenticated.
func (p *parser) adminListen(e entry, dst *netip.AddrPort) error {
	s, err := p.str(e)
	if err != nil {
		return err
	}
	ap, err := netip.ParseAddrPort(s)
	switch {
	case err != nil:
		return p.fail(e, "%q: not IP:port (write IPv6 as \"[::1]:9090\")", s)
	case ap.Port() == 0:
		return p.fail(e, "%q: port must be between 1 and 65535", s)
	case ap.Addr().Zone() != "":
		return p.fail(e, "%q: zoned addresses are not supported", s)
	case ap.Addr().IsUnspecified():
		p.warn(e.path, "%s listens on every interface; admin endpoints belong on the internal interface", ap)
	}
	*dst = ap
	return nil
}
