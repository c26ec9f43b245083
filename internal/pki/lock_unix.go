//go:build unix

package pki

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockExclusive waits for an exclusive flock(2) on f.
func lockExclusive(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			return err
		}
	}
}
