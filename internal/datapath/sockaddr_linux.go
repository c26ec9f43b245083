package datapath

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// putSockaddr encodes to as a raw sockaddr of family fam (unix.AF_INET or
// unix.AF_INET6) into sa, which is large enough for either family, and returns
// the sockaddr length. It does not allocate. An IPv4 socket accepts 4-byte and
// IPv4-mapped addresses; an IPv6 socket (IPV6_V6ONLY) accepts IPv6 addresses
// with an optional numeric zone (the interface index).
func putSockaddr(sa *unix.RawSockaddrInet6, fam int, to netip.AddrPort) (uintptr, error) {
	ip := to.Addr()
	switch {
	case !ip.IsValid():
		return 0, ErrBadAddress
	case fam == unix.AF_INET:
		if !ip.Is4() && !ip.Is4In6() {
			return 0, ErrBadAddress
		}
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		sa4.Family = unix.AF_INET
		putPort(&sa4.Port, to.Port())
		sa4.Addr = ip.Unmap().As4()
		return unix.SizeofSockaddrInet4, nil
	case ip.Is4():
		return 0, ErrBadAddress
	}
	scope, ok := zoneIndex(ip.Zone())
	if !ok {
		return 0, ErrBadAddress
	}
	sa.Family = unix.AF_INET6
	putPort(&sa.Port, to.Port())
	sa.Flowinfo = 0
	sa.Addr = ip.As16()
	sa.Scope_id = scope
	return unix.SizeofSockaddrInet6, nil
}

// addrPortFromRaw decodes a sockaddr written by the kernel into sa. IPv4
// addresses come back as plain 4-byte addresses; an IPv6 zone (scope id) is
// not reported, as naming it would allocate. An unknown family yields the
// zero AddrPort.
func addrPortFromRaw(sa *unix.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), getPort(&sa4.Port))
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), getPort(&sa.Port))
	}
	return netip.AddrPort{}
}

// putPort stores port in network byte order in the sockaddr field p.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0] = byte(port >> 8)
	b[1] = byte(port)
}

// getPort reads the network-byte-order sockaddr field p.
func getPort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}
