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
package pool
