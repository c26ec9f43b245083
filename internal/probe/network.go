package probe

import (
	"context"
	"net"
	"net/netip"
)

// Network is how the probe reaches the edge: name lookups, TCP dials and
// UDP sockets. SystemNetwork is the host's; tests swap in their own.
type Network interface {
	// LookupNetIP resolves host; network is "ip4" or "ip6".
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	// DialContext connects to address; network is "tcp" or "udp".
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
	// ListenPacket opens a UDP socket on address; network is "udp".
	ListenPacket(ctx context.Context, network, address string) (net.PacketConn, error)
}

// SystemNetwork is the host's network: net.DefaultResolver, a net.Dialer
// and a net.ListenConfig.
type SystemNetwork struct{}

// LookupNetIP implements Network.
func (SystemNetwork) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, network, host)
}

// DialContext implements Network.
func (SystemNetwork) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

// ListenPacket implements Network.
func (SystemNetwork) ListenPacket(ctx context.Context, network, address string) (net.PacketConn, error) {
	var lc net.ListenConfig
	return lc.ListenPacket(ctx, network, address)
}
