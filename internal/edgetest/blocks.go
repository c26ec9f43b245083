package edgetest

import (
	"sync/atomic"
	"testing"
)

// PortBlocks hands out a test package's relay port range in blocks, one
// block per edge, taken in turn: Base..Base+Size-1 for the first edge,
// the next Size ports for the second, and back to Base after Count
// blocks. Tests that run one after the other thus reuse a block only long
// after the edge that had it before stopped.
type PortBlocks struct {
	Base  int // the first relay port of the range
	Size  int // the ports of a block
	Count int // the blocks of the range
	next  atomic.Int32
}

// RelayRange is the relay port range of one edge, Min to Max inclusive.
type RelayRange struct{ Min, Max int }

// Contains reports whether port lies in r.
func (r RelayRange) Contains(port int) bool { return r.Min <= port && port <= r.Max }

// Start starts an edge on the next block, refusing loopback peers if
// denyLoopbackPeers, and returns it with its relay port range.
func (b *PortBlocks) Start(tb testing.TB, denyLoopbackPeers bool) (*Edge, RelayRange) {
	tb.Helper()
	block := int(b.next.Add(1)-1) % b.Count
	r := RelayRange{Min: b.Base + block*b.Size}
	r.Max = r.Min + b.Size - 1
	e := Start(tb, Options{RelayPortMin: r.Min, RelayPorts: b.Size, DenyLoopbackPeers: denyLoopbackPeers})
	return e, r
}
