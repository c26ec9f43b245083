package datapath

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// listenPortable opens a net.UDPConn bound to addr, which is not
// IPv4-mapped: see ListenUDP.
func listenPortable(addr netip.AddrPort, cfg ListenConfig) (*Conn, error) {
	network := "udp6" // IPv6 only, as on the fast path
	if addr.Addr().Is4() {
		network = "udp4"
	}
	if _, ok := zoneIndex(addr.Addr().Zone()); !ok || !addr.Addr().IsValid() {
		return nil, fmt.Errorf("%w: listen on %v", ErrBadAddress, addr)
	}
	lc := net.ListenConfig{}
	if cfg.ReusePort {
		lc.Control = func(_, _ string, rc syscall.RawConn) error {
			var optErr error
			if err := rc.Control(func(fd uintptr) { optErr = setReuse(fd, false) }); err != nil {
				return err
			}
			return optErr
		}
	}
	pc, err := lc.ListenPacket(context.Background(), network, addr.String())
	if err != nil {
		return nil, fmt.Errorf("listen on %v: %w", addr, bindError(err))
	}
	uc := pc.(*net.UDPConn)
	c := &Conn{udp: uc, local: uc.LocalAddr().(*net.UDPAddr).AddrPort()}
	if c.local.Addr().Is4In6() {
		c.local = netip.AddrPortFrom(c.local.Addr().Unmap(), c.local.Port())
	}
	if err := c.setBuffers(cfg); err != nil {
		return nil, errors.Join(fmt.Errorf("listen on %v: %w", addr, err), c.Close())
	}
	return c, nil
}

// setBuffers applies cfg.RecvBuffer and cfg.SendBuffer (SO_RCVBUF and
// SO_SNDBUF, which the system may cap).
func (c *Conn) setBuffers(cfg ListenConfig) error {
	if cfg.RecvBuffer > 0 {
		if err := c.udp.SetReadBuffer(cfg.RecvBuffer); err != nil {
			return fmt.Errorf("%w: receive buffer size %d: %w", ErrSocket, cfg.RecvBuffer, err)
		}
	}
	if cfg.SendBuffer > 0 {
		if err := c.udp.SetWriteBuffer(cfg.SendBuffer); err != nil {
			return fmt.Errorf("%w: send buffer size %d: %w", ErrSocket, cfg.SendBuffer, err)
		}
	}
	return nil
}

// closePortable closes the net.UDPConn, which also ends its reader.
func (c *Conn) closePortable() error {
	if err := c.udp.Close(); err != nil {
		return fmt.Errorf("%w: close: %w", ErrSocket, err)
	}
	return nil
}

// destination checks that to suits the socket's family (an IPv4 socket
// also takes IPv4-mapped addresses; an IPv6 zone must be an interface
// index, as on the fast path) and returns it as the socket takes it.
func (c *Conn) destination(to netip.AddrPort) (netip.AddrPort, bool) {
	ip := to.Addr()
	switch {
	case !ip.IsValid():
		return to, false
	case c.local.Addr().Is4():
		if !ip.Is4() && !ip.Is4In6() {
			return to, false
		}
		return netip.AddrPortFrom(ip.Unmap(), to.Port()), true
	}
	_, numeric := zoneIndex(ip.Zone())
	return to, !ip.Is4() && numeric
}

// writePortable is WriteToTOS on the portable path: one
// WriteToUDPAddrPort; tos is not applied.
func (c *Conn) writePortable(b []byte, to netip.AddrPort) error {
	w := c.worker.Load()
	to, ok := c.destination(to)
	if !ok {
		w.countTxError()
		return ErrBadAddress
	}
	if _, err := c.udp.WriteToUDPAddrPort(b, to); err != nil {
		w.countTxError()
		return fmt.Errorf("%w: %w", ErrSend, err)
	}
	w.countTx(len(b))
	return nil
}

// queuePortable is QueueTo on the portable path: it copies b into the
// worker's send queue.
func (c *Conn) queuePortable(b []byte, to netip.AddrPort) error {
	w := c.worker.Load()
	if w == nil || !w.batching {
		return c.writePortable(b, to)
	}
	to, ok := c.destination(to)
	if !ok {
		w.countTxError()
		return ErrBadAddress
	}
	q := &w.port.txq
	if !q.fits(len(b)) {
		w.flushPortable()
		if !q.fits(len(b)) {
			return c.writePortable(b, to)
		}
	}
	q.push(c, b, to)
	return nil
}

// controlPortable runs fn on the socket's descriptor.
func (c *Conn) controlPortable(fn func(fd uintptr) error) error {
	rc, err := c.udp.SyscallConn()
	if err != nil {
		return err
	}
	var fnErr error
	if err := rc.Control(func(fd uintptr) { fnErr = fn(fd) }); err != nil {
		return err
	}
	return fnErr
}
