package edge

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/server"
)

// selfAddrs returns the edge's own addresses, which no allocation may
// reach but on a relay port (server.Options.Self): the relay addresses
// (IPv4, IPv6, advertised), the interfaces' addresses, every listener's,
// the admin endpoints' and the credential service's, and, when one of them
// is a wildcard, every address of the host (localAddrs).
func selfAddrs(cfg *config.Config, localAddrs func() ([]net.Addr, error)) ([]netip.Addr, error) {
	addrs := []netip.Addr{cfg.Relay.Address, cfg.Relay.AddressV6, cfg.RelayAdvertised()}
	if i := cfg.Interfaces; i != nil {
		addrs = append(addrs, i.Internal.Address, i.Internal.AddressV6, i.External.Address, i.External.AddressV6)
	}
	for _, l := range cfg.Listeners {
		addrs = append(addrs, l.Address.Addr())
	}
	if cfg.Admin != nil {
		addrs = append(addrs, cfg.Admin.Listen.Addr())
	}
	if cfg.CredentialService != nil {
		addrs = append(addrs, cfg.CredentialService.Listen.Addr())
	}
	var out []netip.Addr
	wildcard := false
	for _, a := range addrs {
		switch {
		case !a.IsValid():
		case a.IsUnspecified():
			wildcard = true
		default:
			out = append(out, a.Unmap())
		}
	}
	if wildcard {
		ifAddrs, err := localAddrs()
		if err != nil {
			return nil, fmt.Errorf("the host's addresses, for a wildcard listener: %w", err)
		}
		for _, ia := range ifAddrs {
			if p, err := netip.ParsePrefix(ia.String()); err == nil {
				out = append(out, p.Addr().Unmap().WithZone(""))
			}
		}
	}
	return out, nil
}

// peerPorts converts peers.ports.
func peerPorts(ports []config.PortRange) []server.PortRange {
	out := make([]server.PortRange, len(ports))
	for i, p := range ports {
		out[i] = server.PortRange{Min: p[0], Max: p[1]}
	}
	return out
}
