//go:build darwin || freebsd || linux

package datapath

import "golang.org/x/sys/unix"

// The system errors of a failed bind(2) that ListenUDP and ListenTCP map
// to ErrAddrInUse and ErrAddrNotAvailable.
const (
	errnoAddrInUse    = unix.EADDRINUSE
	errnoAddrNotAvail = unix.EADDRNOTAVAIL
	errnoNoFamily     = unix.EAFNOSUPPORT
)

// setReuse sets SO_REUSEPORT on the socket fd, and SO_REUSEADDR first when
// addr is set.
func setReuse(fd uintptr, addr bool) error {
	if addr {
		if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return err
		}
	}
	return unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
}
