package datapath

import (
	"net/netip"
	"time"
)

// Room reserved around every received datagram so that a handler can rewrite
// it in place. A ChannelData message puts a 2-byte channel number and a
// 2-byte length before the data (RFC 8656, Section 12.4), and "over TCP and
// TLS-over-TCP, the ChannelData message MUST be padded to a multiple of four
// bytes" (RFC 8656, Section 12.5). Wrapping a payload into a Data indication
// needs a 20-byte STUN header, an XOR-PEER-ADDRESS attribute (up to 24 bytes)
// and the DATA attribute header (4 bytes) in front, and padding plus an
// optional FINGERPRINT attribute (8 bytes) behind.
const (
	// Headroom is the number of writable bytes before each datagram.
	Headroom = 64
	// Tailroom is the minimum number of writable bytes after each datagram.
	Tailroom = 64
)

// Meta is what the kernel reports about a received datagram besides its
// payload and sender (on the fast path only: the portable path leaves it
// zero).
type Meta struct {
	// TOS is the IPv4 Type of Service byte or the IPv6 Traffic Class of
	// the datagram: the DSCP in the upper six bits, ECN in the lower two.
	// It is read only on Conns opened with ListenConfig.RecvTOS and is 0
	// otherwise.
	TOS uint8
}

// Handler receives what a Worker reads. Its methods run on the worker's
// goroutine, one call at a time, and must not block.
type Handler interface {
	// HandlePacket is called for each datagram read from c, sent by from,
	// with what the kernel reported about it in meta. The datagram is
	// buf[off:off+n]; buf[:off] (at least Headroom bytes) and buf[off+n:]
	// (at least Tailroom bytes) may be overwritten, so a header can be
	// added or stripped in place before c.WriteTo or another Conn's
	// WriteTo. buf is only valid during the call.
	HandlePacket(c *Conn, from netip.AddrPort, buf []byte, off, n int, meta Meta)
	// Tick is called about every WorkerOptions.TickInterval with the time
	// of the worker's clock, for expiry and other timed work.
	Tick(now time.Time)
	// EndRound is called after each round of HandlePacket calls (the
	// datagrams of one epoll_wait, or up to WorkerOptions.BatchSize on the
	// portable path, and the functions queued with Do), after
	// each Tick, and once when Run stops, before the datagrams queued with
	// Conn.QueueTo are sent: the place to publish per-packet counts kept
	// in plain fields, once per round.
	EndRound()
}
