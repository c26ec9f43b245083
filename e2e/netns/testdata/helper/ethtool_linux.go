package main

import (
	"fmt"
	"syscall"
	"unsafe"
)

// From linux/ethtool.h and linux/sockios.h.
const (
	siocEthtool     = 0x8946
	ethtoolSTxCsum  = 0x17 // ETHTOOL_STXCSUM
	ethtoolSGRO     = 0x2c // ETHTOOL_SGRO
	ifNameSize      = 16
	ifreqUnionBytes = 24
)

// ethtoolValue is struct ethtool_value.
type ethtoolValue struct{ cmd, data uint32 }

// ifreq is struct ifreq with ifr_data set.
type ifreq struct {
	name [ifNameSize]byte
	data unsafe.Pointer // a pointer, not a uintptr, so that the GC and stack moves see it
	_    [ifreqUnionBytes - 8]byte
}

// noTxChecksum turns the transmit checksum offload of interface dev off
// (ethtool -K dev tx off), so that the datagrams the namespace's sockets
// send through it leave with complete checksums, as from a real NIC's
// wire, instead of CHECKSUM_PARTIAL, which the eBPF offload leaves to
// user space.
func noTxChecksum(dev string) error {
	if err := ethtoolSet(dev, ethtoolSTxCsum, 0, "ETHTOOL_STXCSUM"); err != nil {
		return err
	}
	return printJSON(map[string]bool{"tx_checksum_off": true})
}

// enableGRO turns GRO on for interface dev (ethtool -K dev gro on). A
// veth then runs NAPI, without which it cannot receive the frames an XDP
// program redirects to its other end (datapath.offload: xdp).
func enableGRO(dev string) error {
	if err := ethtoolSet(dev, ethtoolSGRO, 1, "ETHTOOL_SGRO"); err != nil {
		return err
	}
	return printJSON(map[string]bool{"gro": true})
}

// ethtoolSet sets the ethtool value cmd (named name in errors) of
// interface dev to data with the SIOCETHTOOL ioctl.
func ethtoolSet(dev string, cmd, data uint32, name string) error {
	if len(dev) == 0 || len(dev) >= ifNameSize {
		return fmt.Errorf("%w: -dev %q", errUsage, dev)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	defer syscall.Close(fd)
	v := ethtoolValue{cmd: cmd, data: data}
	var req ifreq
	copy(req.name[:], dev)
	req.data = unsafe.Pointer(&v)
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), siocEthtool, uintptr(unsafe.Pointer(&req))); errno != 0 {
		return fmt.Errorf("helper: %s on %s: %w", name, dev, errno)
	}
	return nil
}
