package edge

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/offload"
	"github.com/avedge/avedge/internal/server"
)

// ErrOffload reports that datapath.offload is "tc" or "xdp" and the eBPF
// offload cannot run at that hook; the error's text names the mode and
// says why (with the verifier's log when the kernel refused the program,
// and the interface whose driver has no native XDP).
var ErrOffload = errors.New("datapath.offload")

// openOffload opens the eBPF offload as mode (datapath.offload) asks, on
// the interfaces that carry the UDP listener and relay addresses of opts
// (see offloadAddrs). It returns nil when mode is off, and with auto when
// the offload cannot run here (it logs why; the relay runs in user space);
// with tc or xdp that is an error wrapping ErrOffload. auto attaches at
// TC, never at XDP: TC runs on any Ethernet interface and tells the
// packets whose checksum a local sender left to the NIC, which XDP
// cannot (docs/offload.md).
func openOffload(mode string, opts server.Options, log *slog.Logger) (*offload.Loader, error) {
	hook := offload.HookTC
	switch mode {
	case config.OffloadAuto, config.OffloadTC:
	case config.OffloadXDP:
		hook = offload.HookXDP
	default:
		return nil, nil
	}
	l, err := openLoader(opts, hook, net.Interfaces, log)
	switch {
	case err == nil:
		return l, nil
	case mode != config.OffloadAuto:
		return nil, fmt.Errorf("%w: %s: %w", ErrOffload, mode, err)
	default:
		log.Info("offload off: relaying channel data in user space", "reason", err.Error())
		return nil, nil
	}
}

// openLoader opens the loader at hook on the interfaces (listed by
// ifaces) that hold the addresses offloadAddrs returns for opts.
func openLoader(opts server.Options, hook offload.Hook, ifaces func() ([]net.Interface, error), log *slog.Logger) (*offload.Loader, error) {
	addrs, err := offloadAddrs(opts)
	if err != nil {
		return nil, err
	}
	names, err := interfacesOf(addrs, ifaces)
	if err != nil {
		return nil, err
	}
	return offload.Open(offload.Options{Interfaces: names, Hook: hook, Logger: log})
}

// offloadAddrs returns the addresses whose interfaces the program must
// run on: for each family (IPv4, IPv6) of a relay address of opts, the
// UDP listeners bound to a concrete address of that family and the relay
// address, when there is such a listener. The relay offloads only
// channels whose client, listener and peer share a family (mixed families
// stay in user space), and the program must know the address a client
// sends to, so a family with only wildcard listeners, or with no relay
// address, needs no interface; an error says why when no family is left.
func offloadAddrs(opts server.Options) ([]netip.Addr, error) {
	var addrs []netip.Addr
	var families []string
	for _, relay := range []netip.Addr{opts.RelayAddr, opts.RelayAddrV6} {
		if !relay.IsValid() {
			continue
		}
		relay = relay.Unmap()
		if relay.Is4() {
			families = append(families, "IPv4")
		} else {
			families = append(families, "IPv6")
		}
		var listeners []netip.Addr
		for _, a := range opts.Listeners {
			if ip := a.Addr().Unmap(); ip.Is4() == relay.Is4() && !ip.IsUnspecified() && !slices.Contains(listeners, ip) {
				listeners = append(listeners, ip)
			}
		}
		if len(listeners) > 0 {
			addrs = append(append(addrs, listeners...), relay)
		}
	}
	switch {
	case len(families) == 0:
		return nil, errors.New("no relay address")
	case len(addrs) == 0:
		return nil, fmt.Errorf("no UDP listener on a concrete %s address (the program must know the address clients send to)",
			strings.Join(families, " or "))
	}
	return addrs, nil
}

// interfacesOf returns the names of the interfaces that hold addrs, each
// once; an address no interface holds is an error.
func interfacesOf(addrs []netip.Addr, ifaces func() ([]net.Interface, error)) ([]string, error) {
	list, err := ifaces()
	if err != nil {
		return nil, fmt.Errorf("listing interfaces: %w", err)
	}
	var names []string
	for _, want := range addrs {
		name, err := interfaceOf(want, list)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names, nil
}

// interfaceOf returns the name of the interface of list that holds a.
func interfaceOf(a netip.Addr, list []net.Interface) (string, error) {
	for _, iface := range list {
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, ia := range addrs {
			if n, ok := ia.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap() == a {
					return iface.Name, nil
				}
			}
		}
	}
	return "", fmt.Errorf("no interface holds %v", a)
}
