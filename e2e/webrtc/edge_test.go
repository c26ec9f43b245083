package e2e

import (
	"testing"

	"github.com/avedge/avedge/internal/edgetest"
)

// edges hands out this package's relay port range, 34000-34999, in blocks
// of 64 ports per edge: 14 blocks, 34000-34895. The ports from 34900 up
// are left to internal/edgetest's own tests.
var edges = edgetest.PortBlocks{Base: 34000, Size: 64, Count: 14}

// startEdge starts an edge on the next relay port block.
func startEdge(t *testing.T, denyLoopbackPeers bool) (*edgetest.Edge, edgetest.RelayRange) {
	t.Helper()
	return edges.Start(t, denyLoopbackPeers)
}
