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
	defaultTxQueue      = 64
	defaultTxBuffer     = 64 << 10
	// maxBatchSize is UIO_MAXIOV, the most messages one recvmmsg(2) or
	// sendmmsg(2) takes.
	maxBatchSize = 1024
	// maxPacketLimit is the largest UDP payload over IPv6 without jumbograms.
	maxPacketLimit = 65527
	// MaxBatchDelay bounds WorkerOptions.BatchDelay.
	MaxBatchDelay = time.Millisecond
)

// WorkerOptions tunes a Worker. Zero fields take their defaults.
type WorkerOptions struct {
	// Portable runs the portable data path (PathPortable) on a system that
	// has a fast path, for Conns opened with ListenConfig.Portable;
	// elsewhere every Worker is portable. The portable path ignores
	// DisableGSO and BatchDelay.
	Portable bool
	// TickInterval is how often Handler.Tick runs (default 250ms; at least
	// 1ms). Pacing follows the monotonic wall clock.
	TickInterval time.Duration
	// BatchSize is the most datagrams read from one socket per recvmmsg(2)
	// call (default 32, at most 1024); on the portable path, the most
	// datagrams delivered per round, and the receive buffers kept ready.
	BatchSize int
	// MaxPacket is the payload capacity of each receive slot (default 9216,
	// at most 65527); larger datagrams are dropped and counted as
	// RxTruncated.
	MaxPacket int
	// TxQueue is the most datagrams Conn.QueueTo holds before the worker
	// sends them (default 64, at most 1024).
	TxQueue int
	// TxBuffer is the size in bytes of the slab Conn.QueueTo copies
	// datagrams into (default 64 KiB); a datagram larger than the slab is
	// sent at once instead.
	TxBuffer int
	// DisableGSO keeps Conn.QueueTo from sending runs of datagrams to one
	// destination as one UDP_SEGMENT send (UDP GSO), which NewWorker
	// otherwise does when the kernel supports it.
	DisableGSO bool
	// BatchDelay, when above 0, is how long a worker whose sockets have
	// nothing ready waits before it looks again, instead of blocking in
	// epoll_wait(2) at once (at most MaxBatchDelay). Packets that arrive
	// meanwhile are handled in one round: fewer wake-ups, system calls and
	// sendmmsg(2) batches of one at moderate load, for at most BatchDelay
	// (plus timer slack) of added latency. A busy worker never waits (its
	// polls find work), and an idle one blocks after one wait. Like a
	// network card's interrupt moderation. 0 (the default) never waits.
	BatchDelay time.Duration
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
	if o.TxQueue == 0 {
		o.TxQueue = defaultTxQueue
	}
	if o.TxBuffer == 0 {
		o.TxBuffer = defaultTxBuffer
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
	case o.TxQueue < 0 || o.TxQueue > maxBatchSize:
		return o, fmt.Errorf("%w: TxQueue %d outside 1..%d", ErrBadOptions, o.TxQueue, maxBatchSize)
	case o.TxBuffer < 0:
		return o, fmt.Errorf("%w: negative TxBuffer %d", ErrBadOptions, o.TxBuffer)
	case o.BatchDelay < 0 || o.BatchDelay > MaxBatchDelay:
		return o, fmt.Errorf("%w: BatchDelay %v outside 0..%v", ErrBadOptions, o.BatchDelay, MaxBatchDelay)
	}
	return o, nil
}
