package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"

	"github.com/avedge/avedge/internal/proxyproto"
)

// ProxyMode is whether a listener's connections begin with a PROXY
// protocol header, and of which version.
type ProxyMode uint8

// The modes.
const (
	ProxyNone     ProxyMode = iota // no header: the connection's own address is the client's
	ProxyV1                        // a version 1 header is required
	ProxyV2                        // a version 2 header is required
	ProxyOptional                  // a header of either version, or none
)

// Proxy is the PROXY protocol setting of a listener.
type Proxy struct {
	// Mode is ProxyNone (the zero Proxy: no header) or what the
	// connections send.
	Mode ProxyMode
	// Trusted are the addresses of the proxies: with a Mode other than
	// ProxyNone, a connection from any other address is closed at once
	// and counted, before it is read. Required with a Mode.
	Trusted []netip.Prefix
}

// trusts reports whether a connection from addr may send a header.
func (p Proxy) trusts(addr netip.Addr) bool {
	return slices.ContainsFunc(p.Trusted, func(t netip.Prefix) bool { return t.Contains(addr) })
}

// proxyPendingPerSource bounds the connections from one trusted proxy (an
// IPv4 address or an IPv6 /64) that have not yet sent their header: the
// per-source connection limits apply to the clients the headers name, so
// the proxy's own address must not be held to them, but a proxy (or what
// spoofs one within a trusted range) that opens connections and sends
// nothing must not hold file descriptors without bound either. A proxy
// sends the header as soon as it connects; this many header waits at once
// means it is broken.
const proxyPendingPerSource = 1024

// errProxyVersion means a header of the other version than the listener
// requires.
var errProxyVersion = errors.New("stream: PROXY protocol header of the wrong version")

// readProxy reads the PROXY protocol header of a connection from nc, a
// trusted proxy at remote, as mode requires. It returns the client's
// address (remote itself for a header that carries none, or for no header
// where mode makes it optional) and the bytes read past where a header
// would be (the first byte of a connection without one), which begin the
// client's stream.
func readProxy(nc net.Conn, mode ProxyMode, remote netip.AddrPort) (client netip.AddrPort, prefix []byte, err error) {
	var r io.Reader = nc
	if mode == ProxyOptional {
		var first [1]byte
		if _, err := io.ReadFull(nc, first[:]); err != nil {
			return netip.AddrPort{}, nil, fmt.Errorf("stream: PROXY protocol: %w", err)
		}
		if !proxyproto.Starts(first[0]) {
			return remote, first[:], nil
		}
		r = io.MultiReader(bytes.NewReader(first[:]), nc)
	}
	h, err := proxyproto.Read(r)
	if err != nil {
		return netip.AddrPort{}, nil, fmt.Errorf("stream: %w", err)
	}
	if (mode == ProxyV1 && h.Version != 1) || (mode == ProxyV2 && h.Version != 2) {
		return netip.AddrPort{}, nil, fmt.Errorf("%w: version %d", errProxyVersion, h.Version)
	}
	if !h.Proxied {
		return remote, nil, nil
	}
	return h.Source, nil, nil
}
