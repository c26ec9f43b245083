//go:build !linux

package offload

import (
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"time"
)

// errNoLoader is what the methods of the Loader no Open returns fail with.
var errNoLoader = fmt.Errorf("%w: %s", ErrUnsupported, runtime.GOOS)

// Options configure Open; see the Linux build.
type Options struct {
	// Interfaces, Hook, MaxEntries, SnapshotEvery and Logger are
	// ignored: Open fails.
	Interfaces    []string
	Hook          Hook
	MaxEntries    uint32
	SnapshotEvery time.Duration
	Logger        *slog.Logger
}

// Loader is the Linux build's loader; none exists on this system.
type Loader struct{}

// Open fails with ErrUnsupported: the offload runs on Linux only.
func Open(Options) (*Loader, error) {
	return nil, errNoLoader
}

// Install fails with ErrUnsupported.
func (*Loader) Install(Channel) error { return errNoLoader }

// Remove fails with ErrUnsupported.
func (*Loader) Remove(Channel) error { return errNoLoader }

// Counters fails with ErrUnsupported.
func (*Loader) Counters(Channel) (Counters, error) { return Counters{}, errNoLoader }

// Source fails with ErrUnsupported.
func (*Loader) Source(netip.Addr) (netip.Addr, error) { return netip.Addr{}, errNoLoader }

// Stats fails with ErrUnsupported.
func (*Loader) Stats() (Stats, error) { return Stats{}, errNoLoader }

// Close does nothing.
func (*Loader) Close() error { return nil }

// Snapshot returns an empty snapshot.
func (*Loader) Snapshot() Snapshot { return noSnapshot{} }

// noSnapshot is the snapshot of a system without the offload: empty.
type noSnapshot struct{}

// Seq returns 0: no snapshot was read.
func (noSnapshot) Seq() uint64 { return 0 }

// Counters reports that no channel is installed.
func (noSnapshot) Counters(Channel) (Counters, bool) { return Counters{}, false }
