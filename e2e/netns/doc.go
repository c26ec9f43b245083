// Package netns holds avedge's network-namespace test of the two-interface
// edge (issue #7): it builds a client namespace on the internal side, an edge
// namespace with an internal and an external veth interface (IP forwarding
// off), and a peer namespace on the external side, runs the avedge binary in
// the edge namespace with an interfaces section, and proves with the
// project's own binaries and two helper programs (testdata/client, a TURN
// client, and testdata/peer, a UDP echo and sender) that:
//
//   - the credential service answers on the internal side, and relayed
//     addresses live on the external side;
//   - media crosses the relay between the two sides with a permission, and
//     is dropped (and counted as no_permission) without one;
//   - the credential service and the admin endpoints cannot be reached from
//     the external side;
//   - a configuration that puts the credential service on the external
//     address is refused.
//
// The namespace test needs root and iproute2; without them it skips, or
// fails when the CI environment variable is "true". Namespaces are named
// avedge-netns-PID-RANDOM-ROLE and removed when the test ends; those left by
// a test process that no longer runs are removed first. Traffic stays inside
// the namespaces the test creates.
package netns
