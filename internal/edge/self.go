package edge

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/server"
)

// selfRefresh is how often a running edge looks for addresses its host
// gained or lost (watchSelf).
const selfRefresh = 10 * time.Second

// selfAddrs returns the edge's own addresses, which no allocation may
// reach but on a relay port (server.Options.Self): the relay addresses
// (IPv4, IPv6, and the advertised ones of both families), the interfaces'
// addresses, every listener's, the admin endpoints' and the credential
// service's, and every address of the host (localAddrs): a service bound to a wildcard answers on all of
// them, whatever the edge's own listeners bind. Sorted, without
// duplicates.
func selfAddrs(cfg *config.Config, localAddrs func() ([]net.Addr, error)) ([]netip.Addr, error) {
	addrs := []netip.Addr{cfg.Relay.Address, cfg.Relay.AddressV6, cfg.RelayAdvertised(), cfg.RelayAdvertisedV6()}
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
	for _, a := range addrs {
		if a.IsValid() && !a.IsUnspecified() {
			out = append(out, a.Unmap())
		}
	}
	ifAddrs, err := localAddrs()
	if err != nil {
		return nil, fmt.Errorf("the host's addresses: %w", err)
	}
	for _, ia := range ifAddrs {
		if p, err := netip.ParsePrefix(ia.String()); err == nil {
			out = append(out, p.Addr().Unmap().WithZone(""))
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out), nil
}

// watchSelf looks for addresses the host gained or lost every interval
// until ctx ends, and hands set the edge's new own addresses when they
// differ from the last it was given (first, the relay's at Build): a
// floating IP or an IPv6 privacy address added after the start is no way
// into the host either.
func (e *Edge) watchSelf(ctx context.Context, cfg *config.Config, last []netip.Addr, every time.Duration,
	localAddrs func() ([]net.Addr, error), set func([]netip.Addr)) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now, err := selfAddrs(cfg, localAddrs)
		if err != nil {
			e.log.Warn("the host's addresses not read; the edge's own addresses stay as they were", "err", err)
			continue
		}
		if slices.Equal(now, last) {
			continue
		}
		e.log.Info("the host's addresses changed: peers on them are refused", "addresses", now)
		set(now)
		last = now
	}
}

// peerPorts converts peers.ports.
func peerPorts(ports []config.PortRange) []server.PortRange {
	out := make([]server.PortRange, len(ports))
	for i, p := range ports {
		out[i] = server.PortRange{Min: p[0], Max: p[1]}
	}
	return out
}
