//go:build !linux

package main

import (
	"fmt"
	"runtime"
)

// enableGRO fails: ethtool's ioctl is Linux's.
func enableGRO(string) error {
	return fmt.Errorf("%w: gro runs on Linux only, not %s", errUsage, runtime.GOOS)
}
