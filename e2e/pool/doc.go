// Package pool tests a pool of avedge edges behind a load balancer, in
// network namespaces the test creates (it needs root; it skips without,
// and fails under CI=true): three edge nodes, a load-balancer namespace
// whose nftables rules spread a virtual address over the healthy nodes (a
// health check of each node's /readyz decides which), a client namespace
// behind the load balancer and a peer namespace beside the nodes.
//
// The test shows allocations spread over the nodes, relayed addresses on
// each node's own address with media flowing to them directly, a full node
// (quotas.allocations_total: 2) that sends the clients it cannot take to
// its siblings (pool.alternate_servers, 300 Try Alternate), a rolling drain
// of every node in turn without a lost allocation (new allocations that
// reach a draining node are redirected too), and a killed node whose calls
// re-allocate on the others.
//
// Every node watches one revocations file (auth.revocations_file, checked
// every second): TestPoolRevocation revokes an identity with "avedge
// sessions revoke" on one node and shows its UDP, TCP and RFC 6062
// sessions end at once there and within the poll interval on the others,
// its Allocates refused everywhere (a restarted node included) while
// another identity's sessions live on, and "avedge sessions lift"
// restoring them.
package pool
