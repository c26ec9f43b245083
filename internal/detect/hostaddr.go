package detect

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// InterfaceAddrs lists the host's interface addresses, as
// net.InterfaceAddrs does.
func InterfaceAddrs() ([]netip.Addr, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("detect: interface addresses: %w", err)
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out, nil
}

// HostAddress returns the one address among addrs that relay.address
// (IPv4) or relay.address_v6 (IPv6, when v6) auto takes: a unicast
// address of the family that is neither loopback nor link-local (a private
// one counts: a VM behind a 1:1 NAT has one). None or several are an
// ErrHostAddress that lists them.
func HostAddress(addrs []netip.Addr, v6 bool) (netip.Addr, error) {
	var found []netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is6() == v6 && a.Zone() == "" && a.IsGlobalUnicast() && !slices.Contains(found, a) {
			found = append(found, a)
		}
	}
	key, family := "relay.address", "IPv4"
	if v6 {
		key, family = "relay.address_v6", "IPv6"
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return netip.Addr{}, fmt.Errorf("%w: %s: auto: the host has no %s address that is neither loopback nor link-local (it has %s): set %s",
			ErrHostAddress, key, family, list(addrs), key)
	default:
		return netip.Addr{}, fmt.Errorf("%w: %s: auto: the host has several %s addresses (%s): set %s to the one relayed media uses",
			ErrHostAddress, key, family, list(found), key)
	}
}

// list writes addrs as "a, b, c", or "none".
func list(addrs []netip.Addr) string {
	if len(addrs) == 0 {
		return "none"
	}
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}
