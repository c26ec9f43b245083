//go:build !linux

package offload

import (
	"fmt"
	"log/slog"
	"runtime"
)

// Options configure Open; see the Linux build.
type Options struct {
	// Interfaces, MaxEntries and Logger are ignored: Open fails.
	Interfaces []string
	MaxEntries uint32
	Logger     *slog.Logger
}

// Loader is the Linux build's loader; none exists on this system.
type Loader struct{}

// Open fails with ErrUnsupported: the offload runs on Linux only.
func Open(Options) (*Loader, error) {
	return nil, fmt.Errorf("%w: %s", ErrUnsupported, runtime.GOOS)
}
