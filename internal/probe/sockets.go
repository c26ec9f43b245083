package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
)

// localTowards returns the local address the host would use to reach dst:
// a connected UDP socket sends nothing, but the kernel picks its route.
func (p *prober) localTowards(dst netip.AddrPort) (netip.Addr, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.opts.Timeout)
	defer cancel()
	c, err := p.opts.Network.DialContext(ctx, "udp", dst.String())
	if err != nil {
		return netip.Addr{}, fmt.Errorf("probe: route to %v: %w", dst, err)
	}
	defer c.Close()
	return addrPortOf(c.LocalAddr()).Addr(), nil
}

// listenUDP opens a UDP socket on local port 0, closed when the probe's
// context ends.
func (p *prober) listenUDP(local netip.Addr) (net.PacketConn, error) {
	pc, err := p.opts.Network.ListenPacket(p.ctx, "udp", netip.AddrPortFrom(local, 0).String())
	if err != nil {
		return nil, fmt.Errorf("probe: listen udp: %w", err)
	}
	p.closeOnCancel(pc)
	return pc, nil
}

// udpTowards opens a UDP socket on the local address towards server.
func (p *prober) udpTowards(server netip.AddrPort) (net.PacketConn, error) {
	local, err := p.localTowards(server)
	if err != nil {
		return nil, err
	}
	return p.listenUDP(local)
}

// dialTCP connects to addr within the timeout; the connection is closed
// when the probe's context ends.
func (p *prober) dialTCP(addr netip.AddrPort) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.opts.Timeout)
	defer cancel()
	c, err := p.opts.Network.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return nil, err
	}
	p.closeOnCancel(c)
	return c, nil
}

// handshake runs a TLS client handshake over c within the timeout.
func (p *prober) handshake(c net.Conn, cfg *tls.Config) (*tls.Conn, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.opts.Timeout)
	defer cancel()
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// closeOnCancel closes c if the probe's context ends first, so that no
// read outlives a cancelled probe.
func (p *prober) closeOnCancel(c interface{ Close() error }) {
	context.AfterFunc(p.ctx, func() { _ = c.Close() })
}

// isTimeout reports whether err is a deadline or timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// isRefused reports whether err is a refused connection (a TCP RST, or
// ICMP port unreachable on a connected UDP socket).
func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
