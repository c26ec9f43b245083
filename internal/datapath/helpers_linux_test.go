package datapath

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// testPaths are the data paths of Linux: the fast path and the portable
// one.
var testPaths = []path{{name: "epoll"}, {name: "portable", portable: true}}

// kernelDrops reads the datagrams the kernel dropped on c's receive queue
// (SO_MEMINFO, SK_MEMINFO_DROPS).
func kernelDrops(t testing.TB, c *Conn) uint64 {
	t.Helper()
	const skMeminfoDrops = 8
	var info [16]uint32
	size := uint32(unsafe.Sizeof(info))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(c.fd), unix.SOL_SOCKET, unix.SO_MEMINFO,
		uintptr(unsafe.Pointer(&info)), uintptr(unsafe.Pointer(&size)), 0)
	if e != 0 {
		t.Fatalf("getsockopt SO_MEMINFO: %v", e)
	}
	if size <= skMeminfoDrops*4 {
		t.Fatalf("SO_MEMINFO returned %d bytes", size)
	}
	return uint64(info[skMeminfoDrops])
}
