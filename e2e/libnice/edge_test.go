package libnice

import (
	"testing"

	"github.com/avedge/avedge/internal/edgetest"
)

const (
	// relayPortBase is the first relay port of this package's range,
	// 36000-36999, handed out in blocks of relayPorts per edge.
	relayPortBase = 36000
	relayPorts    = 64
	// relayBlocks is the number of blocks: 36000-36959.
	relayBlocks = 15
)

// freeBlocks holds the indices of the relay port blocks no running edge
// uses: an edge takes one and gives it back once it has stopped, so that
// edges running in parallel never share relay ports.
var freeBlocks = func() chan int {
	c := make(chan int, relayBlocks)
	for i := range relayBlocks {
		c <- i
	}
	return c
}()

// relayRange is the relay port range of one edge.
type relayRange struct{ min, max int }

// contains reports whether port lies in r.
func (r relayRange) contains(port uint16) bool { return r.min <= int(port) && int(port) <= r.max }

// startEdge starts an edge on a free relay port block, refusing loopback
// peers when denyLoopbackPeers.
func startEdge(t *testing.T, denyLoopbackPeers bool) (*edgetest.Edge, relayRange) {
	t.Helper()
	return startEdgeWith(t, edgetest.Options{DenyLoopbackPeers: denyLoopbackPeers})
}

// startEdgeWith starts an edge of opts on a free relay port block, which
// replaces opts' relay ports.
func startEdgeWith(t *testing.T, opts edgetest.Options) (*edgetest.Edge, relayRange) {
	t.Helper()
	var block int
	select {
	case block = <-freeBlocks:
	default:
		t.Fatalf("all %d relay port blocks are in use", relayBlocks)
	}
	// Cleanups run last-in first-out: the block is free again only after
	// the edge has stopped.
	t.Cleanup(func() { freeBlocks <- block })
	r := relayRange{min: relayPortBase + block*relayPorts}
	r.max = r.min + relayPorts - 1
	opts.RelayPortMin, opts.RelayPorts = r.min, relayPorts
	return edgetest.Start(t, opts), r
}
