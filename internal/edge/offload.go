package edge

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/offload"
	"github.com/avedge/avedge/internal/server"
)

// ErrOffload reports that datapath.offload is "tc" and the eBPF offload
// cannot run; the error's text says why (with the verifier's log when the
// kernel refused the program).
var ErrOffload = errors.New("datapath.offload: tc")

// openOffload opens the eBPF offload as mode (datapath.offload) asks, on
// the interfaces that carry the IPv4 UDP listener and relay addresses of
// opts. It returns nil when mode is off, and with auto when the offload
// cannot run here (it logs why; the relay runs in user space); with tc
// that is an error wrapping ErrOffload.
func openOffload(mode string, opts server.Options, log *slog.Logger) (*offload.Loader, error) {
	if mode != config.OffloadAuto && mode != config.OffloadTC {
		return nil, nil
	}
	l, err := openLoader(opts, net.Interfaces, log)
	switch {
	case err == nil:
		return l, nil
	case mode == config.OffloadTC:
		return nil, fmt.Errorf("%w: %w", ErrOffload, err)
	default:
		log.Info("offload off: relaying channel data in user space", "reason", err.Error())
		return nil, nil
	}
}

// openLoader opens the loader on the interfaces (listed by ifaces) that
// hold the concrete IPv4 UDP listener addresses and the IPv4 relay
// address of opts.
func openLoader(opts server.Options, ifaces func() ([]net.Interface, error), log *slog.Logger) (*offload.Loader, error) {
	if !opts.RelayAddr.IsValid() {
		return nil, errors.New("no IPv4 relay address (IPv6 is not offloaded yet)")
	}
	var listeners []netip.Addr
	for _, a := range opts.Listeners {
		if ip := a.Addr().Unmap(); ip.Is4() && !ip.IsUnspecified() {
			listeners = append(listeners, ip)
		}
	}
	if len(listeners) == 0 {
		return nil, errors.New("no UDP listener on a concrete IPv4 address (the program must know the address clients send to)")
	}
	names, err := interfacesOf(append(listeners, opts.RelayAddr), ifaces)
	if err != nil {
		return nil, err
	}
	return offload.Open(offload.Options{Interfaces: names, Logger: log})
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
