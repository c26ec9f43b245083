// Package pion drives avedge with pion/turn's TURN client, an implementation
// independent of avedge, against an edge started by internal/edgetest: TURN
// over UDP with permissions and channels both ways, TURN over TCP and TLS
// with padded ChannelData, RFC 6062 TCP relays, a peer the edge's policy
// refuses, and allocations that outlive their credential (refreshed,
// permitted and bound past its expiry, while a new Allocate with it gets
// 401). Each test also watches the bytes on the client's connection, so
// that what pion and avedge agreed on is seen on the wire, not only in
// their APIs.
//
// It holds tests only; relay ports 37000-37999 are its own.
package pion
