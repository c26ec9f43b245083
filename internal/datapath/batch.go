//go:build linux

package datapath

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batch is a worker's receive state, allocated once: one contiguous slab of
// size slots of Headroom+maxPacket+Tailroom bytes, and the mmsghdr, iovec and
// sockaddr arrays recvmmsg(2) fills. Each iovec points maxPacket bytes into
// its slot after the headroom.
type batch struct {
	slab   []byte
	stride int
	hdrs   []unix.Mmsghdr
	iovs   []unix.Iovec
	names  []unix.RawSockaddrInet6
}

// newBatch allocates the receive state for size datagrams of up to
// maxPacket bytes.
func newBatch(size, maxPacket int) *batch {
	stride := Headroom + maxPacket + Tailroom
	b := &batch{
		slab:   make([]byte, size*stride),
		stride: stride,
		hdrs:   make([]unix.Mmsghdr, size),
		iovs:   make([]unix.Iovec, size),
		names:  make([]unix.RawSockaddrInet6, size),
	}
	for i := range size {
		b.iovs[i].Base = &b.slab[i*stride+Headroom]
		b.iovs[i].SetLen(maxPacket)
		h := &b.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
	}
	return b
}

// recv reads up to one batch of datagrams from fd with recvmmsg(2) and
// MSG_DONTWAIT, retrying on EINTR. It returns the number of messages read or
// the system error (EAGAIN when nothing is queued).
func (b *batch) recv(fd int) (int, unix.Errno) {
	for i := range b.hdrs {
		// The kernel overwrites the address length of each message it fills.
		b.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
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
// larger than maxPacket) and the sender.
func (b *batch) message(i int) (slot []byte, n int, truncated bool, from netip.AddrPort) {
	start := i * b.stride
	slot = b.slab[start : start+b.stride : start+b.stride]
	h := &b.hdrs[i]
	return slot, int(h.Len), h.Hdr.Flags&unix.MSG_TRUNC != 0, addrPortFromRaw(&b.names[i])
}
