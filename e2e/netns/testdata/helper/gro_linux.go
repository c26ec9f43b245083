package main

import (
	"fmt"
	"syscall"
	"unsafe"
)

// ethtoolSGRO is ETHTOOL_SGRO of linux/ethtool.h.
const ethtoolSGRO = 0x2c

// enableGRO turns GRO on for interface dev (ethtool -K dev gro on). A
// veth then runs NAPI, without which it cannot receive the frames an XDP
// program redirects to its other end (datapath.offload: xdp).
func enableGRO(dev string) error {
	if len(dev) == 0 || len(dev) >= ifNameSize {
		return fmt.Errorf("%w: -dev %q", errUsage, dev)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	defer syscall.Close(fd)
	v := ethtoolValue{cmd: ethtoolSGRO, data: 1}
	var req ifreq
	copy(req.name[:], dev)
	req.data = unsafe.Pointer(&v)
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), siocEthtool, uintptr(unsafe.Pointer(&req))); errno != 0 {
		return fmt.Errorf("helper: ETHTOOL_SGRO on %s: %w", dev, errno)
	}
	return printJSON(map[string]bool{"gro": true})
}
