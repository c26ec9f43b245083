package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Relay is where relayed transport addresses live.
type Relay struct {
	// Address is the IPv4 address relay sockets bind to and that clients
	// and peers see in XOR-RELAYED-ADDRESS. An IPv6-only edge leaves it
	// out and sets AddressV6 alone.
	Address netip.Addr `json:"address,omitzero"`
	// AddressV6, if set, is the IPv6 address of IPv6 relayed transport
	// addresses (RFC 8656, RFC 6156), which clients ask for with
	// REQUESTED-ADDRESS-FAMILY or ADDITIONAL-ADDRESS-FAMILY (dual
	// allocations). Unset, only IPv4 relayed addresses are offered.
	AddressV6 netip.Addr `json:"address_v6,omitzero"`
	// Advertised, if set, is the public IPv4 address of a 1:1 NAT in front
	// of Address: XOR-RELAYED-ADDRESS carries it, with the relay port,
	// instead of Address, to which relay sockets still bind. It is the key
	// for a host without an interfaces section (a one-NIC cloud VM);
	// interfaces.external.advertised says the same, and only one may be
	// set.
	Advertised netip.Addr `json:"advertised,omitzero"`
	// AdvertisedV6, if set, is the address that stands for AddressV6 in
	// XOR-RELAYED-ADDRESS: the outside address of a 1:1 IPv6 translation
	// (NPTv6) in front of it. It needs AddressV6.
	AdvertisedV6 netip.Addr `json:"advertised_v6,omitzero"`
	// PortMin and PortMax bound the relay ports, inclusive; the key
	// "ports" sets both.
	PortMin int `json:"port_min" key:"ports"`
	PortMax int `json:"port_max" key:"ports"`
	// Auto says which of the addresses above the file sets to "auto":
	// they are detected when the edge starts (see Config.WithDetected) and
	// are unset until then.
	Auto RelayAuto `json:"-" key:"-"`
	// DetectWith are the STUN servers ("host:port") that find the public
	// address for advertised: auto; empty asks the cloud's metadata
	// service instead.
	DetectWith []string `json:"detect_with,omitempty"`
	// DetectTimeout bounds the whole detection at start.
	DetectTimeout time.Duration `json:"detect_timeout"`
	// TCP offers TCP relayed addresses (RFC 6062) to clients on TCP and
	// TLS; false answers their Allocates with 442, as coturn's
	// no-tcp-relay does.
	TCP bool `json:"tcp"`
}

const (
	// defaultPortMin and defaultPortMax are the default relay port range.
	defaultPortMin = 50000
	defaultPortMax = 59999
	// minRelayPort keeps relay ports out of the privileged range.
	minRelayPort = 1024
)

// defaultRelay returns the relay defaults: no address, ports 50000-59999,
// detection bounded by defaultDetectTimeout, TCP relays offered.
func defaultRelay() Relay {
	return Relay{PortMin: defaultPortMin, PortMax: defaultPortMax, DetectTimeout: defaultDetectTimeout, TCP: true}
}

// Addrs returns the relay addresses, IPv4 first: one or both of Address
// and AddressV6.
func (r Relay) Addrs() []netip.Addr { return validAddrs(r.Address, r.AddressV6) }

// validAddrs returns the valid ones of addrs, in order.
func validAddrs(addrs ...netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, a := range addrs {
		if a.IsValid() {
			out = append(out, a)
		}
	}
	return out
}

// Ports returns the number of relay ports on each relay address.
func (r Relay) Ports() int { return r.PortMax - r.PortMin + 1 }

// relay decodes the relay section.
func (p *parser) relay(e entry, dst *Relay) error {
	_, err := p.mapping(e, []field{
		{"address", p.orAuto(&dst.Auto.Address, func(e entry) error { return p.relayAddress(e, &dst.Address) })},
		{"address_v6", p.orAuto(&dst.Auto.AddressV6, func(e entry) error { return p.relayAddressV6(e, &dst.AddressV6) })},
		{"advertised", p.orAuto(&dst.Auto.Advertised, func(e entry) error { return p.relayAdvertised(e, &dst.Advertised, false) })},
		{"advertised_v6", p.noAuto(func(e entry) error { return p.relayAdvertised(e, &dst.AdvertisedV6, true) })},
		{"ports", func(e entry) error { return p.portRange(e, dst) }},
		{"detect_with", func(e entry) error { return p.detectWith(e, &dst.DetectWith) }},
		{"detect_timeout", func(e entry) error { return p.detectTimeout(e, &dst.DetectTimeout) }},
		{"tcp", func(e entry) error {
			b, err := p.boolean(e)
			dst.TCP = b
			return err
		}},
	})
	return err
}

// relayAddress decodes the relay address: an IPv4 address that peers can
// send to (see unicastAddr). An IPv6 relay address goes in address_v6.
func (p *parser) relayAddress(e entry, dst *netip.Addr) error {
	return p.relayAddr(e, dst, false, "an IPv6 relay address goes in relay.address_v6")
}

// relayAddressV6 decodes the IPv6 relay address: a concrete IPv6 unicast
// address that peers can send to (see unicastAddr).
func (p *parser) relayAddressV6(e entry, dst *netip.Addr) error {
	return p.relayAddr(e, dst, true, "the IPv4 relay address goes in relay.address")
}

// relayAddr decodes a relay address of one family; a loopback one draws a
// warning.
func (p *parser) relayAddr(e entry, dst *netip.Addr, v6 bool, other string) error {
	a, err := p.unicastAddr(e, v6, other, "the concrete address peers send to")
	if err != nil {
		return err
	}
	if a.IsLoopback() {
		p.warn(e.path, "%s is a loopback address: only this host can reach relayed addresses", a)
	}
	*dst = a
	return nil
}

// relayAdvertised decodes relay.advertised, or relay.advertised_v6 when
// v6: a concrete unicast address of the family (see unicastAddr) that
// peers beyond a 1:1 NAT send to, so neither loopback nor link-local. An
// address outside public address space draws a warning, not an error: a
// NAT may map into another private network (a peered VPC, a carrier's
// 100.64.0.0/10) whose peers do reach it.
func (p *parser) relayAdvertised(e entry, dst *netip.Addr, v6 bool) error {
	other := "an IPv6 advertised address goes in relay.advertised_v6"
	if v6 {
		other = "the IPv4 advertised address goes in relay.advertised"
	}
	a, err := p.unicastAddr(e, v6, other, "the public address of a 1:1 NAT")
	if err != nil {
		return err
	}
	switch {
	case a.IsLoopback() || a.IsLinkLocalUnicast():
		return p.fail(e, "%s: must not be loopback or link-local: it is the address that peers beyond the NAT send to", a)
	case !isPublic(a):
		p.warn(e.path, "%s is not a public address: only peers that route to it, not the internet at large, can reach relayed addresses", a)
	}
	*dst = a
	return nil
}

// unicastAddr decodes the concrete unicast address of one family (IPv6
// when v6) in e: not of the other family (other says where that goes), an
// IPv4-mapped IPv6 address, unspecified (what says what it must be
// instead), multicast, broadcast, zoned, nor IPv6 link-local (it needs a
// zone and only its own link reaches it).
func (p *parser) unicastAddr(e entry, v6 bool, other, what string) (netip.Addr, error) {
	s, err := p.str(e)
	if err != nil {
		return netip.Addr{}, err
	}
	family := "IPv4"
	if v6 {
		family = "IPv6"
	}
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return a, p.fail(e, "%q: not an IP address", s)
	case v6 != (a.Is6() && !a.Is4In6()):
		return a, p.fail(e, "%q: must be an %s address (%s)", s, family, other)
	case a.Zone() != "":
		return a, p.fail(e, "%q: must not have a zone", s)
	case a.IsUnspecified():
		return a, p.fail(e, "%q: must be %s, not the unspecified address", s, what)
	case a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return a, p.fail(e, "%q: must be a unicast address", s)
	case v6 && a.IsLinkLocalUnicast():
		return a, p.fail(e, "%q: must not be link-local: peers beyond the link could not reach it", s)
	}
	return a, nil
}

// portRange decodes "lo-hi" with 1024 <= lo <= hi <= 65535.
func (p *parser) portRange(e entry, dst *Relay) error {
	if v := resolve(e.val); v.ShortTag() == "!!int" {
		// A bare number such as 50000 is a port, not a range.
		return p.fail(e, "%s: not a port range such as \"50000-59999\"", v.Value)
	}
	s, err := p.str(e)
	if err != nil {
		return err
	}
	lo, hi, ok := parsePortRange(s)
	switch {
	case !ok:
		return p.fail(e, "%q: not a port range such as \"50000-59999\"", s)
	case lo < minRelayPort || hi > 65535:
		return p.fail(e, "%q: ports must lie within %d-65535", s, minRelayPort)
	case lo > hi:
		return p.fail(e, "%q: first port above last port", s)
	}
	dst.PortMin, dst.PortMax = lo, hi
	return nil
}

// parsePortRange splits "lo-hi" into two decimal numbers.
func parsePortRange(s string) (lo, hi int, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	lo, okLo := decimal(a)
	hi, okHi := decimal(b)
	return lo, hi, okLo && okHi
}

// decimal parses 1 to 5 ASCII digits (no sign, no spaces).
func decimal(s string) (int, bool) {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// finishRelay requires a relay address (IPv4, IPv6 or both), keeps listeners that share a
// relay address (or that bind the unspecified address of its family) off the
// relay port range, and checks the advertised addresses
// (finishRelayAdvertised).
func (p *parser) finishRelay() error {
	if err := p.finishRelayAuto(); err != nil {
		return err
	}
	r := p.cfg.Relay
	hasV4, hasV6 := r.Address.IsValid() || r.Auto.Address, r.AddressV6.IsValid() || r.Auto.AddressV6
	if !hasV4 && !hasV6 {
		return p.failAt(p.where("relay"), "relay.address", "required (or relay.address_v6 alone for an IPv6-only edge)")
	}
	if !hasV4 && p.cfg.MSTurn.Enabled {
		p.warn("ms_turn.enabled", "an IPv6-only edge refuses [MS-TURN] clients that ask for IPv4 relayed addresses (all before MS-TURN version 4) with 440")
	}
	for i, l := range p.cfg.Listeners {
		a, port := l.Address.Addr(), int(l.Address.Port())
		if port < r.PortMin || port > r.PortMax || !r.sharesAddress(a) {
			continue
		}
		path := fmt.Sprintf("listeners[%d]", i)
		return p.failAt(p.where(path+".address", path), path+".address",
			"port %d lies in relay.ports %d-%d on the relay address", port, r.PortMin, r.PortMax)
	}
	return p.finishRelayAdvertised()
}

// finishRelayAdvertised checks relay.advertised and relay.advertised_v6
// against the addresses they stand for (after finishInterfaces, which
// defaults them): neither is the relay address itself, an IPv6 one needs
// relay.address_v6, and relay.advertised is not set together with
// interfaces.external.advertised, which says the same thing.
func (p *parser) finishRelayAdvertised() error {
	r := p.cfg.Relay
	switch ifs := p.cfg.Interfaces; {
	case r.Advertised.IsValid() && ifs != nil && ifs.External.Advertised.IsValid():
		return p.failAt(p.where("relay.advertised"), "relay.advertised",
			"set together with interfaces.external.advertised, which says the same thing: keep one of them")
	case r.Advertised.IsValid() && !r.Address.IsValid() && !r.Auto.Address:
		return p.failAt(p.where("relay.advertised"), "relay.advertised",
			"%s: there is no IPv4 relay address for it to stand for (set relay.address)", r.Advertised)
	case r.Advertised.IsValid() && r.Advertised == r.Address:
		return p.failAt(p.where("relay.advertised"), "relay.advertised",
			"%s is relay.address itself: advertised is for the public address of a 1:1 NAT; leave it out", r.Advertised)
	case !r.AdvertisedV6.IsValid():
	case !r.AddressV6.IsValid() && !r.Auto.AddressV6:
		return p.failAt(p.where("relay.advertised_v6"), "relay.advertised_v6",
			"%s: there is no IPv6 relay address for it to stand for (set relay.address_v6)", r.AdvertisedV6)
	case r.AdvertisedV6 == r.AddressV6:
		return p.failAt(p.where("relay.advertised_v6"), "relay.advertised_v6",
			"%s is relay.address_v6 itself: advertised_v6 is for the outside address of a 1:1 IPv6 translation; leave it out", r.AdvertisedV6)
	}
	return nil
}

// sharesAddress reports whether a listener bound to a would compete with
// relay sockets for ports: a is a relay address, or the unspecified address
// (of either family: an IPv6 wildcard listener may accept IPv4 as well).
func (r Relay) sharesAddress(a netip.Addr) bool {
	if a.IsUnspecified() {
		return true
	}
	a = a.Unmap()
	return a == r.Address || (r.AddressV6.IsValid() && a == r.AddressV6)
}
