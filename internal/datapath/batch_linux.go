package datapath

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// controlSize is the control buffer of each received message: room for the
// IP_TOS or IPV6_TCLASS message that ListenConfig.RecvTOS asks for and the
// SO_RXQ_OVFL message that ListenConfig.RecvDrops asks for (24 bytes each
// on 64-bit Linux), with spare space.
const controlSize = 64

// batch is a worker's receive state, allocated once: one contiguous slab of
// size slots of Headroom+maxPacket+Tailroom bytes, and the mmsghdr, iovec,
// sockaddr and control-message arrays recvmmsg(2) fills. Each iovec points
// maxPacket bytes into its slot after the headroom.
type batch struct {
	slab    []byte
	stride  int
	hdrs    []unix.Mmsghdr
	iovs    []unix.Iovec
	names   []unix.RawSockaddrInet6
	control [][controlSize / 8]uint64 // 8-byte aligned, as cmsghdr needs
}

// newBatch allocates the receive state for size datagrams of up to
// maxPacket bytes.
func newBatch(size, maxPacket int) *batch {
	stride := Headroom + maxPacket + Tailroom
	b := &batch{
		slab:    make([]byte, size*stride),
		stride:  stride,
		hdrs:    make([]unix.Mmsghdr, size),
		iovs:    make([]unix.Iovec, size),
		names:   make([]unix.RawSockaddrInet6, size),
		control: make([][controlSize / 8]uint64, size),
	}
	for i := range size {
		b.iovs[i].Base = &b.slab[i*stride+Headroom]
		b.iovs[i].SetLen(maxPacket)
		h := &b.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
		h.Control = (*byte)(unsafe.Pointer(&b.control[i]))
	}
	return b
}

// recv reads up to one batch of datagrams from fd with recvmmsg(2) and
// MSG_DONTWAIT, retrying on EINTR. It returns the number of messages read or
// the system error (EAGAIN when nothing is queued).
func (b *batch) recv(fd int) (int, unix.Errno) {
	for i := range b.hdrs {
		// The kernel overwrites the address and control lengths of each
		// message it fills.
		h := &b.hdrs[i].Hdr
		h.Namelen = unix.SizeofSockaddrInet6
		h.SetControllen(controlSize)
	}
	for {
		// RawSyscall: the socket is non-blocking and MSG_DONTWAIT is set,
		// so the call never blocks; skipping the runtime's syscall
		// bookkeeping keeps sysmon from handing this worker's P away
		// (see nonBlockingSyscalls in worker.go).
		n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd),
			uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(len(b.hdrs)),
			unix.MSG_DONTWAIT, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(n), 0
	}
}

// message returns message i of the last recv: its slot (capacity limited to
// the slot), the datagram length, whether the kernel truncated it (it was
// larger than maxPacket), the sender and what its control messages carry.
func (b *batch) message(i int) (slot []byte, n int, truncated bool, from netip.AddrPort, ctl control) {
	start := i * b.stride
	slot = b.slab[start : start+b.stride : start+b.stride]
	h := &b.hdrs[i]
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&b.control[i])), controlSize)
	clen := min(int(h.Hdr.Controllen), controlSize)
	ctl = parseControl(buf[:clen])
	return slot, int(h.Len), h.Hdr.Flags&unix.MSG_TRUNC != 0, addrPortFromRaw(&b.names[i]), ctl
}

// control is what the control messages of one received datagram carry.
type control struct {
	// meta holds the TOS byte (IP_TOS or IPV6_TCLASS), 0 when absent.
	meta Meta
	// drops is the socket's running count of datagrams dropped on a full
	// receive queue (SO_RXQ_OVFL); hasDrops reports whether it was there.
	drops    uint32
	hasDrops bool
}

// parseControl reads the TOS byte (IP_TOS, one byte of data), Traffic
// Class (IPV6_TCLASS, an int) and drop count (SO_RXQ_OVFL, a uint32) from
// the control messages in b. It does not allocate and stops at the first
// malformed header.
func parseControl(b []byte) control {
	var ctl control
	hdrLen := unix.CmsgLen(0)
	for len(b) >= hdrLen {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		l := int(h.Len)
		if l < hdrLen || l > len(b) {
			return ctl
		}
		data := b[hdrLen:l]
		switch {
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_TOS && len(data) >= 1:
			ctl.meta.TOS = data[0]
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_TCLASS && len(data) >= 4:
			ctl.meta.TOS = uint8(binary.NativeEndian.Uint32(data))
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SO_RXQ_OVFL && len(data) >= 4:
			ctl.drops, ctl.hasDrops = binary.NativeEndian.Uint32(data), true
		}
		next := unix.CmsgSpace(l - hdrLen)
		if next >= len(b) {
			return ctl
		}
		b = b[next:]
	}
	return ctl
}
