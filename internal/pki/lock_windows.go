package pki

import (
	"os"

	"golang.org/x/sys/windows"
)

// lockExclusive waits for an exclusive LockFileEx lock on the first byte
// of f; closing f releases it.
func lockExclusive(f *os.File) error {
	var ol windows.Overlapped
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &ol)
}
