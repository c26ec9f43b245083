package datapath

import "fmt"

// ListenConfig holds the socket options ListenUDP applies before bind(2).
type ListenConfig struct {
	// Portable opens a Conn for the portable data path (a net.UDPConn, for
	// a Worker created with WorkerOptions.Portable) on a system that has a
	// fast path; elsewhere every Conn is portable. A portable Conn ignores
	// RecvTOS and RecvDrops, and sets RecvBuffer and SendBuffer with
	// SO_RCVBUF and SO_SNDBUF only.
	Portable bool
	// ReusePort sets SO_REUSEPORT, so that several sockets (one per worker)
	// can bind the same address and the kernel spreads datagrams over them
	// (Linux, FreeBSD; macOS lets them bind, but delivers a client's
	// datagrams to one of them). On Windows it sets SO_REUSEADDR.
	ReusePort bool
	// RecvBuffer is the requested receive buffer size in bytes; 0 leaves the
	// system default. SO_RCVBUFFORCE is tried first (it needs CAP_NET_ADMIN);
	// without the privilege SO_RCVBUF is used, which the kernel caps at
	// net.core.rmem_max.
	RecvBuffer int
	// SendBuffer is the requested send buffer size in bytes; 0 leaves the
	// system default. Like RecvBuffer, with SO_SNDBUFFORCE and SO_SNDBUF
	// (capped at net.core.wmem_max).
	SendBuffer int
	// RecvTOS asks the kernel to report the TOS byte (IPv4, IP_RECVTOS) or
	// Traffic Class (IPv6, IPV6_RECVTCLASS) of every datagram, which a
	// Worker passes to the Handler in Meta.TOS.
	RecvTOS bool
	// RecvDrops asks the kernel to report, with every datagram, how many
	// datagrams it has dropped on the socket because its receive queue was
	// full (SO_RXQ_OVFL), which a Worker sums into Stats.RxDropped.
	RecvDrops bool
}

// validate rejects negative buffer sizes.
func (cfg ListenConfig) validate() error {
	if cfg.RecvBuffer < 0 || cfg.SendBuffer < 0 {
		return fmt.Errorf("%w: negative socket buffer size (recv %d, send %d)", ErrBadOptions, cfg.RecvBuffer, cfg.SendBuffer)
	}
	return nil
}
