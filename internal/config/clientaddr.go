package config

import "net/netip"

// ClientAddr returns the address at which clients reach a listener bound
// to ip when no advertise_host names it: an unspecified address at the
// relay address of its family (0.0.0.0 at relay.address; [::], which takes
// both families, at relay.address, or at relay.address_v6 on an IPv6-only
// edge), then a relay address at its advertised one (behind a 1:1 NAT),
// and any other address at itself. ok is false for 0.0.0.0 on an
// IPv6-only edge, which no client reaches, and for a listener named by a
// relay address or advertised address still "auto" (detected when serve
// starts: unknown until then).
func (c *Config) ClientAddr(ip netip.Addr) (addr netip.Addr, ok bool) {
	ip = ip.Unmap()
	if ip.IsUnspecified() {
		switch {
		case c.Relay.Address.IsValid():
			ip = c.Relay.Address
		case ip.Is6() && !c.Relay.Auto.Address && c.Relay.AddressV6.IsValid():
			ip = c.Relay.AddressV6
		default:
			return netip.Addr{}, false
		}
	}
	if c.Relay.Auto.Advertised && ip == c.Relay.Address {
		return netip.Addr{}, false
	}
	switch {
	case ip == c.Relay.Address && c.RelayAdvertised().IsValid():
		return c.RelayAdvertised(), true
	case ip == c.Relay.AddressV6 && c.RelayAdvertisedV6().IsValid():
		return c.RelayAdvertisedV6(), true
	}
	return ip.WithZone(""), true
}
