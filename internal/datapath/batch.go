//go:build linux

package datapath

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// controlSize is the control buffer of each received message: room for the
// one IP_TOS or IPV6_TCLASS message that ListenConfig.RecvTOS asks for, with
// spare space for another the kernel might add.
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
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd),
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
// larger than maxPacket), the sender and the metadata from its control
// messages.
func (b *batch) message(i int) (slot []byte, n int, truncated bool, from netip.AddrPort, meta Meta) {
	start := i * b.stride
	slot = b.slab[start : start+b.stride : start+b.stride]
	h := &b.hdrs[i]
	ctrl := unsafe.Slice((*byte)(unsafe.Pointer(&b.control[i])), controlSize)
	clen := min(int(h.Hdr.Controllen), controlSize)
	meta.TOS = tosFromControl(ctrl[:clen])
	return slot, int(h.Len), h.Hdr.Flags&unix.MSG_TRUNC != 0, addrPortFromRaw(&b.names[i]), meta
}

// tosFromControl returns the TOS byte (IP_TOS, one byte of data) or Traffic
// Class (IPV6_TCLASS, an int) carried by the control messages in b, or 0
// when there is none. It does not allocate and stops at the first malformed
// header.
func tosFromControl(b []byte) uint8 {
	hdrLen := unix.CmsgLen(0)
	for len(b) >= hdrLen {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		l := int(h.Len)
		if l < hdrLen || l > len(b) {
			return 0
		}
		data := b[hdrLen:l]
		switch {
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_TOS && len(data) >= 1:
			return data[0]
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_TCLASS && len(data) >= 4:
			return uint8(binary.NativeEndian.Uint32(data))
		}
		next := unix.CmsgSpace(l - hdrLen)
		if next >= len(b) {
			return 0
		}
		b = b[next:]
	}
	return 0
}
