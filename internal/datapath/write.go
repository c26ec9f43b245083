//go:build linux

package datapath

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// WriteTo sends b as one datagram to to with sendto(2), without allocating.
// The destination must match the socket's family (an IPv4 socket also accepts
// IPv4-mapped addresses); otherwise WriteTo returns ErrBadAddress. A full
// socket buffer (EAGAIN) returns ErrWouldBlock: the datagram is dropped and
// the caller counts it. Other failures match ErrSend and the system error
// (errors.Is(err, unix.EMSGSIZE)). A closed Conn returns ErrClosed.
//
// While the Conn is added to a Worker, the outcome is counted in that
// worker's Stats (TxPackets, TxBytes, TxWouldBlock, TxErrors). WriteTo is safe
// for concurrent use, but not concurrently with Close.
func (c *Conn) WriteTo(b []byte, to netip.AddrPort) error {
	return c.WriteToTOS(b, to, 0)
}

// WriteToTOS is WriteTo with the datagram's IPv4 TOS byte or IPv6 Traffic
// Class (DSCP and ECN) set to tos. A non-zero tos is passed in an IP_TOS or
// IPV6_TCLASS control message with sendmsg(2), for this datagram only; tos 0
// takes WriteTo's plain sendto(2) path and the socket's default (0). It does
// not allocate, and its errors and counting are those of WriteTo.
func (c *Conn) WriteToTOS(b []byte, to netip.AddrPort, tos uint8) error {
	if c.closed.Load() {
		return ErrClosed
	}
	w := c.worker.Load()
	var sa unix.RawSockaddrInet6
	salen, err := putSockaddr(&sa, c.family, to)
	if err != nil {
		w.countTxError()
		return err
	}
	for {
		var e unix.Errno
		if tos == 0 {
			_, _, e = unix.RawSyscall6(unix.SYS_SENDTO, uintptr(c.fd), // non-blocking socket: see worker.go
				uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
				0, uintptr(unsafe.Pointer(&sa)), salen)
		} else {
			e = c.sendmsg(b, &sa, salen, tos)
		}
		switch e {
		case 0:
			w.countTx(len(b))
			return nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			w.countTxWouldBlock()
			return ErrWouldBlock
		default:
			w.countTxError()
			return sendError{errno: e}
		}
	}
}

// QueueTo is WriteToTOS for the handlers of the Worker c is added to: while
// that worker delivers a round of datagrams, it copies b into the worker's
// send queue and returns nil, and the worker sends the queue with one
// sendmmsg(2) per socket at the end of the round, or earlier when the queue
// is full (WorkerOptions.TxQueue, TxBuffer). Functions passed to Do run
// within a round too. Datagrams queued on one Conn leave in order. Outside
// a round (Handler.Tick, a Conn not added to a Worker) and for a datagram
// larger than the queue's slab, it sends at once like WriteToTOS and
// returns its error.
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
	w := c.worker.Load()
	if w == nil || !w.batching {
		return c.WriteToTOS(b, to, tos)
	}
	var sa unix.RawSockaddrInet6
	salen, err := putSockaddr(&sa, c.family, to)
	if err != nil {
		w.countTxError()
		return err
	}
	if !w.txq.fits(len(b)) {
		w.flushTx()
		if !w.txq.fits(len(b)) {
			return c.WriteToTOS(b, to, tos)
		}
	}
	w.txq.push(c, b, &sa, salen, tos)
	return nil
}

// sendmsg sends b to the raw address sa (of length salen) with sendmsg(2)
// and a control message that sets the datagram's TOS or Traffic Class.
func (c *Conn) sendmsg(b []byte, sa *unix.RawSockaddrInet6, salen uintptr, tos uint8) unix.Errno {
	var ctrl tosControl
	ctrl.set(c.family, tos)
	iov := unix.Iovec{Base: unsafe.SliceData(b)}
	iov.SetLen(len(b))
	msg := unix.Msghdr{
		Name:    (*byte)(unsafe.Pointer(sa)),
		Namelen: uint32(salen),
		Iov:     &iov,
		Control: (*byte)(unsafe.Pointer(&ctrl)),
	}
	msg.SetIovlen(1)
	msg.SetControllen(unix.CmsgSpace(tosControlData))
	_, _, e := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&msg)), 0) // non-blocking socket
	return e
}

// tosControlData is the size of the data of the IP_TOS or IPV6_TCLASS
// control message WriteToTOS sends: an int, which both accept.
const tosControlData = 4

// tosControl is the control buffer of WriteToTOS: one cmsghdr and its int,
// padded to CMSG_SPACE(sizeof(int)) and aligned as cmsghdr needs.
type tosControl struct {
	hdr unix.Cmsghdr
	val int32
	_   int32
}

// set fills c with the control message that sets the TOS (AF_INET) or
// Traffic Class (AF_INET6) of one datagram to tos.
func (c *tosControl) set(family int, tos uint8) {
	c.hdr.Level, c.hdr.Type = unix.IPPROTO_IP, unix.IP_TOS
	if family == unix.AF_INET6 {
		c.hdr.Level, c.hdr.Type = unix.IPPROTO_IPV6, unix.IPV6_TCLASS
	}
	c.hdr.SetLen(unix.CmsgLen(tosControlData))
	c.val = int32(tos)
}
