package pki

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockFile is the name of the lock file in a development PKI directory.
const lockFile = ".lock"

// lockDir takes an exclusive lock on the lock file in dir, waiting for
// other holders, also in other processes, and returns the function that
// releases it: flock(2) on Unix, LockFileEx on Windows.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pki: lock: %w", err)
	}
	if err := lockExclusive(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("pki: lock %s: %w", f.Name(), err)
	}
	return func() { _ = f.Close() }, nil // closing releases the lock
}
