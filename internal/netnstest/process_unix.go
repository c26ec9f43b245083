//go:build unix

package netnstest

import (
	"errors"
	"syscall"
)

// processGone reports whether no process pid runs (kill(2) with signal 0
// fails with ESRCH).
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
