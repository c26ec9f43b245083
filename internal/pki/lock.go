package pki

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockFile is the name of the lock file in a development PKI directory.
const lockFile = ".lock"

// lockDir takes an exclusive lock (flock(2)) on the lock file in dir,
// waiting for other holders, also in other processes, and returns the
// function that releases it.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pki: lock: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("pki: lock %s: %w", f.Name(), err)
	}
	return func() { _ = f.Close() }, nil // closing releases the lock
}
