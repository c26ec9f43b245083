// Package bench is avedge's load generator: a real TURN client (RFC 8656
// over UDP, raw STUN with github.com/pion/stun/v3 and internal/stunproto)
// that opens allocations, binds channels to a built-in echo peer and measures
// relayed packet rates, loss and round-trip latency, or measures allocation
// churn. Its sockets use batched I/O (recvmmsg/sendmmsg through
// golang.org/x/net/ipv4 and ipv6) so that the generator is not the bottleneck.
//
// A Raw run uses no TURN at all, for a bare forwarder: each packet starts
// with a 4-byte big-endian call id, the forwarder relays it to the peer and
// back to the client of that call id.
//
// Run drives one benchmark and returns its Result; the "avedge bench"
// command is a thin wrapper around it.
package bench
