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
		_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(c.fd),
			uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
			0, uintptr(unsafe.Pointer(&sa)), salen)
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
