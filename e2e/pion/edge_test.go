package pion

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/edgetest"
)

const (
	// relayPortBase is the first relay port of this package's range,
	// 37000-37999, handed out in blocks of relayPorts per edge.
	relayPortBase = 37000
	relayPorts    = 64
	// blocks is the number of blocks: 37000-37959.
	blocks = 15
	// ioTimeout bounds every read of the tests.
	ioTimeout = 5 * time.Second
)

// edges counts the edges started, to pick their blocks in turn. The tests
// run one after the other, so an edge reuses a block only long after the
// edge that had it before stopped.
var edges atomic.Int32

// relayRange is the relay port range of one edge.
type relayRange struct{ min, max int }

// contains reports whether port lies in r.
func (r relayRange) contains(port int) bool { return r.min <= port && port <= r.max }

// startEdge starts an edge on the next relay port block.
func startEdge(t *testing.T, denyLoopbackPeers bool) (*edgetest.Edge, relayRange) {
	t.Helper()
	block := int(edges.Add(1)-1) % blocks
	r := relayRange{min: relayPortBase + block*relayPorts}
	r.max = r.min + relayPorts - 1
	e := edgetest.Start(t, edgetest.Options{RelayPortMin: r.min, RelayPorts: relayPorts, DenyLoopbackPeers: denyLoopbackPeers})
	return e, r
}
