//go:build !linux

package main

import (
	"fmt"
	"runtime"
)

// noTxChecksum fails: ethtool's ioctl is Linux's.
func noTxChecksum(string) error {
	return fmt.Errorf("%w: nocsum runs on Linux only, not %s", errUsage, runtime.GOOS)
}

// enableGRO fails: ethtool's ioctl is Linux's.
func enableGRO(string) error {
	return fmt.Errorf("%w: gro runs on Linux only, not %s", errUsage, runtime.GOOS)
}
