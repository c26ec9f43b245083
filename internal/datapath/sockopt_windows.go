package datapath

import "golang.org/x/sys/windows"

// The system errors of a failed bind that ListenUDP and ListenTCP map to
// ErrAddrInUse and ErrAddrNotAvailable.
const (
	errnoAddrInUse    = windows.WSAEADDRINUSE
	errnoAddrNotAvail = windows.WSAEADDRNOTAVAIL
	errnoNoFamily     = windows.WSAEAFNOSUPPORT
)

// setReuse sets SO_REUSEADDR on the socket fd, which on Windows lets
// several sockets bind one address and port (Windows has no SO_REUSEPORT);
// addr changes nothing.
func setReuse(fd uintptr, _ bool) error {
	return windows.SetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, windows.SO_REUSEADDR, 1)
}
