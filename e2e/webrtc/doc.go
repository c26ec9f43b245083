// Package e2e proves with github.com/pion/webrtc/v4 that a real WebRTC
// stack gets data and media through avedge: two PeerConnections in one
// process, restricted to relay candidates, connect through an edge started
// by internal/edgetest over TURN over UDP, TCP and TLS, and fail as a user
// sees it when their credential is wrong or the edge refuses the peer.
//
// It holds tests only; relay ports 34000-34999 are its own.
package e2e
