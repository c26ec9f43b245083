package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Interfaces names the two sides of an edge: the internal interface, which
// the corporate network routes to, and the external, publicly routable one
// where relayed addresses live.
type Interfaces struct {
	// Internal is the corporate side: client listeners, the credential
	// service and the admin endpoints.
	Internal Interface `json:"internal"`
	// External is the public side: client listeners and every relayed
	// transport address.
	External Interface `json:"external"`
}

// Interface is the addresses, and optionally the name, of one side of the
// edge.
type Interface struct {
	// Name, if set, is the Linux interface name (such as "eth1"): avedge
	// firewall then binds the side's rules to it (nftables iifname,
	// iptables -i), so that packets for its addresses arriving on another
	// interface are not accepted.
	Name string `json:"name,omitempty"`
	// Address is the interface's IPv4 address; unset on the IPv6-only
	// side of an IPv6-only edge.
	Address netip.Addr `json:"address,omitzero"`
	// AddressV6, if set, is the interface's IPv6 address.
	AddressV6 netip.Addr `json:"address_v6,omitzero"`
	// Advertised, set on the external interface only, is the public IPv4
	// address of a 1:1 NAT in front of it: XOR-RELAYED-ADDRESS carries it
	// instead of Address, while relay sockets still bind Address.
	Advertised netip.Addr `json:"advertised,omitzero"`
}

// Has reports whether a is one of i's own addresses (not the advertised
// one); an IPv4-mapped IPv6 address counts as its IPv4 address.
func (i Interface) Has(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && (a == i.Address || a == i.AddressV6)
}

// Addrs returns i's own addresses, IPv4 first (not the advertised one).
func (i Interface) Addrs() []netip.Addr { return validAddrs(i.Address, i.AddressV6) }

// interfaces decodes the interfaces section: both sides are required.
func (p *parser) interfaces(e entry, dst **Interfaces) error {
	ifs := &Interfaces{}
	seen, err := p.mapping(e, []field{
		{"internal", func(e entry) error { return p.iface(e, &ifs.Internal, false) }},
		{"external", func(e entry) error { return p.iface(e, &ifs.External, true) }},
	})
	if err != nil {
		return err
	}
	if err := p.require(e, seen, "internal", "external"); err != nil {
		return err
	}
	*dst = ifs
	return nil
}

// iface decodes one side; only the external side may have an advertised
// address.
func (p *parser) iface(e entry, dst *Interface, external bool) error {
	seen, err := p.mapping(e, []field{
		{"name", func(e entry) error { return p.ifaceName(e, &dst.Name) }},
		{"address", func(e entry) error { return p.ifaceAddress(e, &dst.Address, false) }},
		{"address_v6", func(e entry) error { return p.ifaceAddress(e, &dst.AddressV6, true) }},
		{"advertised", func(e entry) error {
			if !external {
				return p.fail(e, "only the external interface has an advertised address (the public address of a 1:1 NAT)")
			}
			return p.advertised(e, &dst.Advertised)
		}},
	})
	if err != nil {
		return err
	}
	_, v4 := seen["address"]
	_, v6 := seen["address_v6"]
	switch {
	case !v4 && !v6:
		return p.failAt(e.at, child(e.path, "address"), "required (address_v6 alone on an IPv6-only host)")
	case !v4 && dst.Advertised.IsValid():
		return p.failAt(p.where(child(e.path, "advertised")), child(e.path, "advertised"),
			"%s: there is no IPv4 address (address) for it to stand for", dst.Advertised)
	}
	return nil
}

// maxIfaceName is the longest Linux interface name: IFNAMSIZ (16) less the
// terminating NUL.
const maxIfaceName = 15

// ifaceName decodes an interface name as Linux accepts it (the kernel's
// dev_valid_name): 1 to 15 bytes, no '/', ':' or white space, not "." or
// "..". It also refuses what the generated rulesets cannot hold: bytes
// outside printable ASCII, '"' and '\\' (nftables quoting), and '*' and '+'
// (wildcards in nftables and iptables interface matches).
func (p *parser) ifaceName(e entry, dst *string) error {
	s, err := p.str(e)
	if err != nil {
		return err
	}
	switch {
	case s == "":
		return p.fail(e, "must not be empty (leave the key out to match by address only)")
	case len(s) > maxIfaceName:
		return p.fail(e, "%q: longer than %d bytes, the limit of Linux interface names", s, maxIfaceName)
	case s == "." || s == "..":
		return p.fail(e, "%q: not a Linux interface name", s)
	case strings.IndexFunc(s, badIfaceRune) >= 0:
		return p.fail(e, "%q: an interface name here is printable ASCII without white space, '/', ':', '\"', '\\', '*' or '+'", s)
	}
	*dst = s
	return nil
}

// badIfaceRune reports whether r may not appear in an interface name.
func badIfaceRune(r rune) bool {
	return r <= ' ' || r > '~' || strings.ContainsRune(`/:"\*+`, r)
}

// ifaceAddress decodes an interface address: a concrete unicast address of
// the family the key names (see unicastAddr).
func (p *parser) ifaceAddress(e entry, dst *netip.Addr, v6 bool) error {
	other := "an IPv6 address goes in address_v6"
	if v6 {
		other = "the IPv4 address goes in address"
	}
	a, err := p.unicastAddr(e, v6, other, "the interface's own address")
	if err != nil {
		return err
	}
	*dst = a
	return nil
}

// advertised decodes interfaces.external.advertised: a public unicast IPv4
// address, since peers on the internet send to it.
func (p *parser) advertised(e entry, dst *netip.Addr) error {
	s, err := p.str(e)
	if err != nil {
		return err
	}
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return p.fail(e, "%q: not an IP address", s)
	case !a.Is4():
		return p.fail(e, "%q: must be an IPv4 address (1:1 NAT is for IPv4)", s)
	case a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return p.fail(e, "%q: must be a unicast address", s)
	case !isPublic(a):
		return p.fail(e, "%q: must be a public address that peers on the internet can reach (not loopback, private, link-local or 100.64.0.0/10)", s)
	}
	*dst = a
	return nil
}

// finishInterfaces ties the listeners, the relay, the credential service
// and the admin endpoints to the interfaces, when they are configured:
// relayed addresses live on the external side (relay.address defaults to
// it), listeners bind an address of either side, and the credential service
// and admin endpoints bind the internal side only.
func (p *parser) finishInterfaces() error {
	ifs := p.cfg.Interfaces
	if ifs == nil {
		return nil
	}
	in, ex := ifs.Internal, ifs.External
	for _, a := range in.Addrs() {
		if ex.Has(a) {
			return p.failAt(p.where("interfaces.internal.address", "interfaces"), "interfaces",
				"internal and external interfaces share %s: they must be different interfaces", a)
		}
	}
	if in.Name != "" && in.Name == ex.Name {
		return p.failAt(p.where("interfaces.external.name", "interfaces"), "interfaces.external.name",
			"%q is interfaces.internal.name too: the internal and external sides must be different interfaces", ex.Name)
	}
	if ex.Advertised.IsValid() && ex.Advertised == ex.Address {
		return p.failAt(p.where("interfaces.external.advertised"), "interfaces.external.advertised",
			"%s is external.address itself: advertised is for the public address of a 1:1 NAT; leave it out", ex.Advertised)
	}
	if err := p.finishRelayInterfaces(ex); err != nil {
		return err
	}
	onInternal := false
	for i, l := range p.cfg.Listeners {
		a := l.Address.Addr()
		if in.Has(a) {
			onInternal = true
			continue
		}
		if ex.Has(a) {
			continue
		}
		path := fmt.Sprintf("listeners[%d]", i)
		return p.failAt(p.where(path+".address", path), path+".address",
			"%s is on neither interface: bind the internal or external address (%s)", a, quoteAddrs(slices.Concat(in.Addrs(), ex.Addrs())))
	}
	if !onInternal {
		p.warn("listeners", "no listener on the internal interface (%s): internal clients reach the edge through the external side", quoteAddrs(in.Addrs()))
	}
	if cs := p.cfg.CredentialService; cs != nil {
		if _, set := p.at["credential_service.listen"]; !set {
			cs.Listen = netip.AddrPortFrom(in.Addrs()[0], DefaultServicePort)
		} else if !in.Has(cs.Listen.Addr()) {
			return p.failAt(p.where("credential_service.listen"), "credential_service.listen",
				"%s: the credential service is for trusted servers on the internal network: bind the internal address (%s)", cs.Listen, quoteAddrs(in.Addrs()))
		}
	}
	if ad := p.cfg.Admin; ad != nil && !in.Has(ad.Listen.Addr()) {
		return p.failAt(p.where("admin.listen"), "admin.listen",
			"%s: the admin endpoints belong on the internal network: bind the internal address (%s)", ad.Listen, quoteAddrs(in.Addrs()))
	}
	return nil
}

// finishRelayInterfaces puts the relayed addresses on the external
// interface: relay.address (and relay.address_v6) default to its addresses
// and must equal them when set.
func (p *parser) finishRelayInterfaces(ex Interface) error {
	r := &p.cfg.Relay
	switch {
	case !r.Address.IsValid():
		r.Address = ex.Address
	case r.Address != ex.Address:
		return p.failAt(p.where("relay.address"), "relay.address",
			"%s is not interfaces.external.address (%s): relayed addresses live on the external interface (leave relay.address out to use it)", r.Address, ex.Address)
	}
	switch {
	case !r.AddressV6.IsValid():
		r.AddressV6 = ex.AddressV6
	case !ex.AddressV6.IsValid():
		return p.failAt(p.where("relay.address_v6"), "relay.address_v6",
			"%s: relayed addresses live on the external interface, which has no address_v6 (set interfaces.external.address_v6)", r.AddressV6)
	case r.AddressV6 != ex.AddressV6:
		return p.failAt(p.where("relay.address_v6"), "relay.address_v6",
			"%s is not interfaces.external.address_v6 (%s): relayed addresses live on the external interface", r.AddressV6, ex.AddressV6)
	}
	return nil
}

// quoteAddrs writes addrs as "a, b or c".
func quoteAddrs(addrs []netip.Addr) string {
	var b strings.Builder
	for i, a := range addrs {
		switch {
		case i == 0:
		case i == len(addrs)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(a.String())
	}
	return b.String()
}

// RelayAdvertised returns the address that stands for the IPv4 relay
// address in XOR-RELAYED-ADDRESS: relay.advertised or
// interfaces.external.advertised (at most one is set), or the zero Addr
// when there is none (the relay address itself is advertised).
func (c *Config) RelayAdvertised() netip.Addr {
	if c.Relay.Advertised.IsValid() || c.Interfaces == nil {
		return c.Relay.Advertised
	}
	return c.Interfaces.External.Advertised
}

// RelayAdvertisedV6 returns the address that stands for the IPv6 relay
// address in XOR-RELAYED-ADDRESS: relay.advertised_v6, or the zero Addr
// when it is not set (the IPv6 relay address itself is advertised).
func (c *Config) RelayAdvertisedV6() netip.Addr { return c.Relay.AdvertisedV6 }
