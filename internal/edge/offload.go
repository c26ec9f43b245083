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
// ifaces) that offloadAddrs names for opts.
func openLoader(opts server.Options, hook offload.Hook, ifaces func() ([]net.Interface, error), log *slog.Logger) (*offload.Loader, error) {
	addrs, wild, err := offloadAddrs(opts)
	if err != nil {
		return nil, err
	}
	names, err := interfacesOf(addrs, ifaces)
	if err != nil {
		return nil, err
	}
	more, err := interfacesWith(wild, ifaces)
	if err != nil {
		return nil, err
	}
	for _, name := range more {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return offload.Open(offload.Options{Interfaces: names, Hook: hook, Logger: log})
}

// offloadAddrs returns where the program must run, for each family (IPv4,
// IPv6) of a relay address of opts that has a UDP listener: addrs, the
// interfaces holding the family's concrete listener addresses and its
// relay address; and wild, the families (as 0.0.0.0 or ::) with a
// wildcard listener, whose clients may arrive by any interface with an
// address of the family. The relay offloads only channels whose client,
// listener and peer share a family (mixed families stay in user space),
// so a family without a relay address or without a listener needs no
// interface; an error says why when no family is left.
func offloadAddrs(opts server.Options) (addrs, wild []netip.Addr, err error) {
	var families []string
	for _, relay := range []netip.Addr{opts.RelayAddr, opts.RelayAddrV6} {
		if !relay.IsValid() {
			continue
		}
		relay = relay.Unmap()
		unspecified := netip.IPv4Unspecified()
		if relay.Is4() {
			families = append(families, "IPv4")
		} else {
			families = append(families, "IPv6")
			unspecified = netip.IPv6Unspecified()
		}
		var listeners []netip.Addr
		wildcard := false
		for _, a := range opts.Listeners {
			switch ip := a.Addr().Unmap(); {
			case ip.Is4() != relay.Is4():
			case ip.IsUnspecified():
				wildcard = true
			case !slices.Contains(listeners, ip):
				listeners = append(listeners, ip)
			}
		}
		if len(listeners) > 0 || wildcard {
			addrs = append(append(addrs, listeners...), relay)
		}
		if wildcard {
			wild = append(wild, unspecified)
		}
	}
	switch {
	case len(families) == 0:
		return nil, nil, errors.New("no relay address")
	case len(addrs) == 0:
		return nil, nil, fmt.Errorf("no UDP listener on an %s address (the relay address's family)",
			strings.Join(families, " or "))
	}
	return addrs, wild, nil
}

// interfacesWith returns the names of the interfaces (listed by ifaces)
// a wildcard listener of each family of wild may take clients by: those
// that are up, Ethernet (the program parses Ethernet frames) and hold a
// unicast address of the family that is neither loopback nor link-local.
// A family no such interface serves is an error.
func interfacesWith(wild []netip.Addr, ifaces func() ([]net.Interface, error)) ([]string, error) {
	if len(wild) == 0 {
		return nil, nil
	}
	list, err := ifaces()
	if err != nil {
		return nil, fmt.Errorf("listing interfaces: %w", err)
	}
	var names []string
	for _, family := range wild {
		found := false
		for _, iface := range list {
			if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 || len(iface.HardwareAddr) != 6 ||
				!holdsFamily(iface, family.Is4()) {
				continue
			}
			found = true
			if !slices.Contains(names, iface.Name) {
				names = append(names, iface.Name)
			}
		}
		if !found {
			return nil, fmt.Errorf("no Ethernet interface with an address for the wildcard listener %v", family)
		}
	}
	return names, nil
}

// holdsFamily reports whether iface holds a unicast address of the family
// (IPv4 when v4) that is neither loopback nor link-local.
func holdsFamily(iface net.Interface, v4 bool) bool {
	addrs, err := iface.Addrs()
	if err != nil {
		return false
	}
	for _, ia := range addrs {
		n, ok := ia.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if ip = ip.Unmap(); ok && ip.Is4() == v4 && ip.IsGlobalUnicast() && !ip.IsLinkLocalUnicast() {
			return true
		}
	}
	return false
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
