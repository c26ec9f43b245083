package datapath

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// writeRaw is WriteToTOS on the fast path: sendto(2), or sendmsg(2) with
// a control message for a non-zero tos, without allocating.
func (c *Conn) writeRaw(b []byte, to netip.AddrPort, tos uint8) error {
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

// queueRaw is QueueTo on the fast path: it copies b into the worker's
// sendmmsg(2) queue.
func (c *Conn) queueRaw(b []byte, to netip.AddrPort, tos uint8) error {
	w := c.worker.Load()
	if w == nil || !w.batching {
		return c.writeRaw(b, to, tos)
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
			return c.writeRaw(b, to, tos)
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

// countTxWouldBlock counts a send dropped on EAGAIN; w may be nil.
func (w *Worker) countTxWouldBlock() {
	if w != nil {
		w.ctr.txWouldBlock.Add(1)
	}
}
