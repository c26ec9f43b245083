//go:build linux

package main

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr of recvmmsg(2)/sendmmsg(2); Go pads it to the C
// size on every architecture.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// batch holds the buffers and headers of up to len(hs) datagrams, allocated
// once, so that receiving and sending a batch allocates nothing.
type batch struct {
	hs    []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet4
	bufs  [][]byte
	lens  []int
}

// newBatch returns a batch of n datagrams of at most size bytes.
func newBatch(n, size int) *batch {
	b := &batch{
		hs:    make([]mmsghdr, n),
		iovs:  make([]unix.Iovec, n),
		names: make([]unix.RawSockaddrInet4, n),
		bufs:  make([][]byte, n),
		lens:  make([]int, n),
	}
	slab := make([]byte, n*size)
	for i := range n {
		b.bufs[i] = slab[i*size : (i+1)*size : (i+1)*size]
		b.iovs[i].Base = &b.bufs[i][0]
		b.hs[i].hdr.Iov = &b.iovs[i]
		b.hs[i].hdr.SetIovlen(1)
		b.hs[i].hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
	}
	return b
}

// prepareRecv readies every slot for recvmmsg.
func (b *batch) prepareRecv() {
	for i := range b.hs {
		b.iovs[i].SetLen(len(b.bufs[i]))
		b.hs[i].hdr.Namelen = unix.SizeofSockaddrInet4
		b.hs[i].n = 0
	}
}

// recvmmsg reads up to len(b.hs) datagrams from fd without blocking.
func (b *batch) recvmmsg(fd uintptr) (int, unix.Errno) {
	b.prepareRecv()
	n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.hs[0])), uintptr(len(b.hs)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	for i := range int(n) {
		b.lens[i] = int(b.hs[i].n)
	}
	return int(n), 0
}

// sendmmsg writes datagrams [from, to) of b to fd without blocking; iovec
// lengths and names must have been set with setOut.
func (b *batch) sendmmsg(fd uintptr, from, to int) (int, unix.Errno) {
	n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.hs[from])), uintptr(to-from), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}

// setOut makes slot i carry buf[:n] to dst.
func (b *batch) setOut(i int, src []byte, dst *unix.RawSockaddrInet4) {
	b.iovs[i].Base = &src[0]
	b.iovs[i].SetLen(len(src))
	b.hs[i].hdr.Name = (*byte)(unsafe.Pointer(dst))
	b.hs[i].hdr.Namelen = unix.SizeofSockaddrInet4
}

// resetOut points slot i back at its own buffer and name.
func (b *batch) resetOut(i int) {
	b.iovs[i].Base = &b.bufs[i][0]
	b.hs[i].hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
}

// fromAddrPort converts an IPv4 address and port to a raw socket address.
func fromAddrPort(a netip.AddrPort) unix.RawSockaddrInet4 {
	sa := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.Addr().Unmap().As4()}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	binary.BigEndian.PutUint16(p[:], a.Port())
	return sa
}
