//go:build !linux

package main

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
)

// tosSocket is Linux's only.
type tosSocket struct{}

// newTOSSocket fails: the control messages it reads are Linux's.
func newTOSSocket(*net.UDPConn) (*tosSocket, error) {
	return nil, fmt.Errorf("%w: -tos runs on Linux only, not %s", errUsage, runtime.GOOS)
}

func (*tosSocket) set(int) error { return nil }

func (*tosSocket) read([]byte) (int, netip.AddrPort, int, error) {
	return 0, netip.AddrPort{}, -1, nil
}
