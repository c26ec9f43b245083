package server

import (
	"context"
	"sync"

	"github.com/avedge/avedge/internal/server/tcprelay"
)

// tcpShared is the server-wide state of RFC 6062 TCP relays. The registry
// of pending connections is shared because a ConnectionBind arrives on a
// new client connection, which may be served by another worker than the
// allocation's; everything else of a TCP allocation stays with its worker.
type tcpShared struct {
	perAlloc int
	pending  *tcprelay.Registry
	ctr      tcprelay.Counters
	// ctx ends the connection attempts and hand-offs of a stopping server.
	ctx    context.Context
	cancel context.CancelFunc
	// wg counts the accept and connect goroutines.
	wg sync.WaitGroup
}

// newTCPShared returns the shared state of RFC 6062 relays whose
// allocations hold at most perAlloc peer connections (0: the default);
// one user may hold two allocations' worth of pending ones, so that a few
// identities cannot keep MaxPending for everyone.
func newTCPShared(perAlloc int) *tcpShared {
	if perAlloc <= 0 {
		perAlloc = tcprelay.DefaultPerAllocation
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &tcpShared{perAlloc: perAlloc, pending: tcprelay.NewRegistry(tcprelay.MaxPending, 2*perAlloc), ctx: ctx, cancel: cancel}
}

// stop ends the connection attempts and waits for the accept and connect
// goroutines; the listeners must be closed already.
func (t *tcpShared) stop() {
	t.cancel()
	t.wg.Wait()
}
