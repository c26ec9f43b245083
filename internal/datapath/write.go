package datapath

import "net/netip"

// WriteTo sends b as one datagram to to, without allocating. The
// destination must match the socket's family (an IPv4 socket also accepts
// IPv4-mapped addresses); otherwise WriteTo returns ErrBadAddress. Other
// failures match ErrSend and the system error (errors.Is(err,
// unix.EMSGSIZE)). A closed Conn returns ErrClosed.
//
// On the fast path it is one sendto(2) on a non-blocking socket: a full
// socket buffer (EAGAIN) returns ErrWouldBlock, the datagram is dropped and
// the caller counts it. On the portable path it is one
// net.UDPConn.WriteToUDPAddrPort, which waits for room in the socket
// buffer instead, and a send the system fails allocates its error.
//
// While the Conn is added to a Worker, the outcome is counted in that
// worker's Stats (TxPackets, TxBytes, TxWouldBlock, TxErrors). WriteTo is safe
// for concurrent use, but not concurrently with Close.
func (c *Conn) WriteTo(b []byte, to netip.AddrPort) error {
	return c.WriteToTOS(b, to, 0)
}

// WriteToTOS is WriteTo with the datagram's IPv4 TOS byte or IPv6 Traffic
// Class (DSCP and ECN) set to tos. On the fast path a non-zero tos is passed
// in an IP_TOS or IPV6_TCLASS control message with sendmsg(2), for this
// datagram only; tos 0 takes WriteTo's plain sendto(2) path and the
// socket's default (0). The portable path sends every datagram with the
// socket's default and ignores tos. It does not allocate, and its errors
// and counting are those of WriteTo.
func (c *Conn) WriteToTOS(b []byte, to netip.AddrPort, tos uint8) error {
	if c.closed.Load() {
		return ErrClosed
	}
	return c.writeTo(b, to, tos)
}

// QueueTo is WriteToTOS for the handlers of the Worker c is added to: while
// that worker delivers a round of datagrams, it copies b into the worker's
// send queue and returns nil, and the worker sends the queue at the end of
// the round (after Handler.EndRound), or earlier when the queue is full
// (WorkerOptions.TxQueue, TxBuffer): on the fast path with one sendmmsg(2)
// per socket, on the portable path one datagram per call. Functions passed
// to Do run within a round too. Datagrams queued on one Conn leave in order.
// Outside a round (Handler.Tick, a Conn not added to a Worker) and for a
// datagram larger than the queue's slab, it sends at once like WriteToTOS
// and returns its error.
//
// A queued datagram's outcome is counted in the worker's Stats (TxPackets,
// TxBytes, TxBatches, TxWouldBlock, TxErrors), not returned. A destination
// of the wrong family returns ErrBadAddress at once, a closed Conn
// ErrClosed. QueueTo does not allocate. Unlike WriteTo, it must be called
// on the goroutine of the Worker c is added to (or on a Conn not added to
// any Worker).
func (c *Conn) QueueTo(b []byte, to netip.AddrPort, tos uint8) error {
	if c.closed.Load() {
		return ErrClosed
	}
	return c.queueTo(b, to, tos)
}
