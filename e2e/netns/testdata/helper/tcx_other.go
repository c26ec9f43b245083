//go:build !linux

package main

import (
	"fmt"
	"runtime"
)

// tcxPrograms fails: tcx is Linux's.
func tcxPrograms(string) error {
	return fmt.Errorf("%w: tcx runs on Linux only, not %s", errUsage, runtime.GOOS)
}
