// Package netns holds avedge's network-namespace test of the two-interface
// edge (issue #7). With internal/netnstest it builds a client namespace on
// the internal side, an edge namespace with an internal and an external veth
// interface (IP forwarding off), and a peer namespace on the external side,
// which also acts as the external client; it runs the avedge binary in the
// edge namespace with an interfaces section that names both interfaces, and
// proves with the project's own binaries and a helper program
// (testdata/helper: a TURN client and a raw one, a UDP echo and sender, an
// HTTP server, an HTTP and TCP prober) that:
//
//   - the credential service answers on the internal side, and the
//     credentials it issues name the internal listener for intranet callers
//     and the external one for internet callers;
//   - relayed addresses live on the external side, for clients on either
//     side; media crosses the relay between the two sides with a
//     permission, and is dropped (and counted as no_permission) without
//     one; the internal and the external client relay to each other
//     through their two allocations;
//   - the credential service and the admin endpoints cannot be reached from
//     the external side, but can from the internal one;
//   - when a host on the external side routes the internal address through
//     the edge, it reaches the credential service and the admin port until
//     the nftables ruleset of avedge firewall is loaded, and not after,
//     while the internal client and relaying still work;
//   - a configuration that puts the credential service on the external
//     address is refused;
//   - no hairpin: services the test starts on the edge's relay address
//     (a UDP echo and an HTTP server on ports 80 and 8080) cannot be
//     reached through a UDP or an RFC 6062 TCP allocation, nor the edge's
//     TURN, admin and credential-service ports (403, or Send indications
//     dropped as peer_denied), nor, behind wildcard listeners, services
//     on an address the configuration does not name; the same services
//     on the peer are reached on port 8080 and refused on port 80
//     (peers.ports), and two allocations of the edge still relay to each
//     other.
//
// The detection tests (issue #18) run a one-NIC edge with relay.address
// and relay.advertised set to auto in a "vm" namespace:
//
//   - behind a "cloud" router namespace doing nftables 1:1 NAT
//     (203.0.113.10 <-> 10.0.0.5) to an "internet" namespace, where the
//     helper runs a STUN server: the edge logs the detected public address
//     with "stun 203.0.113.2:3478" as its source, hands it out in
//     XOR-RELAYED-ADDRESS, and a client on the internet side relays
//     datagrams to a peer there and gets the echoes back, through the NAT;
//   - with the helper serving AWS's IMDSv2 on 169.254.169.254 in the
//     "cloud" namespace and no STUN servers: the edge takes the address
//     it gives after the token exchange, logs "aws metadata" as its
//     source, and hands it out in XOR-RELAYED-ADDRESS.
//
// The offload test (issue #21) runs an edge with datapath.offload: tc
// (testdata/offload.yaml), with transmit checksum offload off on the
// client's and the peer's veths (the helper's nocsum mode) so that their
// datagrams arrive complete, as from a real wire: a client's ChannelData
// to an echo peer and the echoes all arrive while the edge's sockets
// receive none of them, the relayed-packet metrics count them (read back
// from the kernel), and the session record written when the edge stops
// holds exactly what was sent.
//
// The namespace test needs root and iproute2 (and nft for the firewall
// part); without them it skips, or fails when the CI environment variable
// is "true". Namespaces are named avedge-netns-PID-RANDOM-ROLE and removed
// when the test ends; those left by a test process that no longer runs are
// removed first. Traffic stays inside the namespaces the test creates.
package netns
