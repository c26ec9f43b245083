package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avedge/avedge/internal/server/stats"
)

// Limits of RFC 6062 TCP relays.
const (
	// tcpBindTimeout: RFC 6062 §5.2 and §5.3, "If no ConnectionBind
	// request associated with this peer data connection is received after
	// 30 seconds, the peer data connection MUST be closed."
	tcpBindTimeout = 30 * time.Second
	// tcpConnectTimeout bounds an outbound connection attempt: RFC 6062
	// §5.2, "If the connection attempt fails or times out, the server MUST
	// return a 447 [...] The timeout value MUST be at least 30 seconds."
	tcpConnectTimeout = 30 * time.Second
	// defaultTCPConnectionsPerAllocation is the default of
	// Options.TCPConnectionsPerAllocation.
	defaultTCPConnectionsPerAllocation = 64
	// maxPendingTCP bounds the peer data connections of the whole server
	// that wait for their ConnectionBind.
	maxPendingTCP = 4096
	// tcpCopyBuffer is the buffer of each direction of a data connection:
	// what the relay holds at most per direction, so a side that does not
	// read stalls the other through the TCP window.
	tcpCopyBuffer = 16 << 10
)

// tcpShared is the server-wide state of RFC 6062 TCP relays. The registry
// of pending connections is shared because a ConnectionBind arrives on a
// new client connection, which may be served by another worker than the
// allocation's; everything else of a TCP allocation stays with its worker.
type tcpShared struct {
	perAlloc int
	pending  pendingConns
	ctr      tcpCounters
	// ctx ends the connection attempts and hand-offs of a stopping server.
	ctx    context.Context
	cancel context.CancelFunc
	// wg counts the accept and connect goroutines.
	wg sync.WaitGroup
}

func newTCPShared(perAlloc int) *tcpShared {
	if perAlloc <= 0 {
		perAlloc = defaultTCPConnectionsPerAllocation
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &tcpShared{perAlloc: perAlloc, pending: newPendingConns(maxPendingTCP), ctx: ctx, cancel: cancel}
}

// stop ends the connection attempts and waits for the accept and connect
// goroutines; the listeners must be closed already.
func (t *tcpShared) stop() {
	t.cancel()
	t.wg.Wait()
}

// tcpCounters count the life of TCP relay connections; any goroutine
// writes them.
type tcpCounters struct {
	connects, connectFailed, inbound                 atomic.Uint64
	refusedNoPermission, refusedLimit, bindsExpired  atomic.Uint64
	bound, toPeerBytes, toClientBytes, badBindsCount atomic.Uint64
	dataOpen                                         atomic.Int64
}

func (c *tcpCounters) snapshot() stats.TCPRelayStats {
	return stats.TCPRelayStats{
		Connects:            c.connects.Load(),
		ConnectFailed:       c.connectFailed.Load(),
		Inbound:             c.inbound.Load(),
		RefusedNoPermission: c.refusedNoPermission.Load(),
		RefusedLimit:        c.refusedLimit.Load(),
		BindsExpired:        c.bindsExpired.Load(),
		BadBinds:            c.badBindsCount.Load(),
		Bound:               c.bound.Load(),
		DataOpen:            c.dataOpen.Load(),
		ToPeerBytes:         c.toPeerBytes.Load(),
		ToClientBytes:       c.toClientBytes.Load(),
	}
}
