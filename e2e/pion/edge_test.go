package pion

import (
	"testing"
	"time"

	"github.com/avedge/avedge/internal/edgetest"
)

// ioTimeout bounds every read of the tests.
const ioTimeout = 5 * time.Second

// edges hands out this package's relay port range, 37000-37999, in blocks
// of 64 ports per edge: 15 blocks, 37000-37959.
var edges = edgetest.PortBlocks{Base: 37000, Size: 64, Count: 15}

// startEdge starts an edge on the next relay port block.
func startEdge(t *testing.T, denyLoopbackPeers bool) (*edgetest.Edge, edgetest.RelayRange) {
	t.Helper()
	return edges.Start(t, denyLoopbackPeers)
}
