// Package policy decides which peer addresses a TURN allocation may relay
// to, how fast one source may send unauthenticated requests
// (SourceLimiter), and how many relayed bytes per second an allocation or a
// user may move (Bandwidth, Bucket, SharedBucket).
//
// The relay is default-deny for everything that is not a publicly routable
// unicast address: loopback, unspecified, link-local (including the cloud
// metadata address 169.254.169.254), private, shared, documentation,
// benchmarking, multicast and reserved ranges, and every IPv4 address hidden
// inside an IPv6 address (IPv4-mapped, IPv4-compatible, SIIT, NAT64, 6to4,
// Teredo and ISATAP forms). An operator allow list can re-open ranges, e.g.
// loopback for a development edge; unspecified addresses are never allowed.
package policy
