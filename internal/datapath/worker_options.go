//go:build linux

package datapath

import (
	"fmt"
	"time"

	"github.com/avedge/avedge/internal/clock"
)

// Defaults and limits of WorkerOptions.
const (
	defaultTickInterval = 250 * time.Millisecond
	defaultBatchSize    = 32
	defaultMaxPacket    = 9216
	// maxBatchSize is UIO_MAXIOV, the most messages one recvmmsg(2) takes.
	maxBatchSize = 1024
	// maxPacketLimit is the largest UDP payload over IPv6 without jumbograms.
	maxPacketLimit = 65527
)

// WorkerOptions tunes a Worker. Zero fields take their defaults.
type WorkerOptions struct {
	// TickInterval is how often Handler.Tick runs (default 250ms; at least
	// 1ms). Pacing follows the monotonic wall clock.
	TickInterval time.Duration
	// BatchSize is the most datagrams read from one socket per recvmmsg(2)
	// call (default 32, at most 1024).
	BatchSize int
	// MaxPacket is the payload capacity of each receive slot (default 9216,
	// at most 65527); larger datagrams are dropped and counted as
	// RxTruncated.
	MaxPacket int
	// Clock supplies the time passed to Handler.Tick (default clock.Real{}).
	Clock clock.Clock
}

// withDefaults fills zero fields and validates the rest.
func (o WorkerOptions) withDefaults() (WorkerOptions, error) {
	if o.TickInterval == 0 {
		o.TickInterval = defaultTickInterval
	}
	if o.BatchSize == 0 {
		o.BatchSize = defaultBatchSize
	}
	if o.MaxPacket == 0 {
		o.MaxPacket = defaultMaxPacket
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	switch {
	case o.TickInterval < time.Millisecond:
		return o, fmt.Errorf("%w: TickInterval %v below 1ms", ErrBadOptions, o.TickInterval)
	case o.BatchSize < 0 || o.BatchSize > maxBatchSize:
		return o, fmt.Errorf("%w: BatchSize %d outside 1..%d", ErrBadOptions, o.BatchSize, maxBatchSize)
	case o.MaxPacket < 0 || o.MaxPacket > maxPacketLimit:
		return o, fmt.Errorf("%w: MaxPacket %d outside 1..%d", ErrBadOptions, o.MaxPacket, maxPacketLimit)
	}
	return o, nil
}
