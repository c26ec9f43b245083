package netns

import (
	"testing"

	"github.com/avedge/avedge/internal/netnstest"
)

// The namespaces of the topology: the internal client, the edge and the
// peer on the external side, which also acts as the external client.
const (
	nsClient = "client"
	nsEdge   = "edge"
	nsPeer   = "peer"
)

// Addresses of the topology: the client and the edge's internal interface
// share 10.99.1.0/24, the edge's external interface and the peer share
// 10.99.2.0/24.
const (
	clientAddr   = "10.99.1.2"
	edgeInternal = "10.99.1.1"
	edgeExternal = "10.99.2.1"
	peerAddr     = "10.99.2.2"
)

// The edge's interface names (netnstest names each veth end after the
// namespace at the other end), as testdata/edge.yaml names them.
const (
	edgeInternalDev = nsClient
	edgeExternalDev = nsPeer
)

// nsPrefix starts the name of every namespace the test creates.
const nsPrefix = "avedge-netns"

// newTopology creates the client, edge and peer namespaces with their veth
// pairs and addresses (the edge with IP forwarding off), removed when the
// test ends; it skips the test without root or iproute2.
func newTopology(t *testing.T) *netnstest.Net {
	t.Helper()
	n := netnstest.New(t, nsPrefix)
	for _, ns := range []string{nsClient, nsEdge, nsPeer} {
		n.Add(ns)
	}
	if v := n.Link(nsEdge, nsClient, edgeInternal+"/24", clientAddr+"/24"); v.A != edgeInternalDev {
		t.Fatalf("the edge's internal interface is %q, want %q", v.A, edgeInternalDev)
	}
	if v := n.Link(nsEdge, nsPeer, edgeExternal+"/24", peerAddr+"/24"); v.A != edgeExternalDev {
		t.Fatalf("the edge's external interface is %q, want %q", v.A, edgeExternalDev)
	}
	// No routing between the sides except through the relay.
	n.Sysctl(nsEdge, "net.ipv4.ip_forward", "0")
	return n
}
