// Package server is the relay core: STUN (RFC 8489) and TURN (RFC 8656)
// over UDP, TCP and TLS, with TCP relays (RFC 6062) and the [MS-TURN]
// dialect of Lync and Skype for Business beside it. It composes the codecs
// (stunproto, msturn), authentication (auth), peer policy and quotas
// (policy), allocation state (allocation) and the packet loop (datapath),
// and reports through the value types of its stats sub-package.
//
// Each packet worker owns one SO_REUSEPORT client socket per listener, the
// relay sockets of the allocations that arrived on it (one per address
// family, two for a dual allocation) and the allocation table for them, so
// the forwarding path takes no lock and allocates nothing. Only the port
// pools (one per relay address), the port reservations of EVEN-PORT and the
// quota counters are shared between workers, and they are touched on the
// control path alone.
//
// A datagram from a client is looked up once by its 5-tuple, and its
// session's dialect decides who handles it (worker.handleClient): RFC TURN
// (worker.go, forward.go, request.go and one file per method), or
// [MS-TURN] (the msdialect sub-package, which reaches the core through
// msCore in dialect.go); a 5-tuple without a session is sniffed for the
// dialect only when it is served. TCP and TLS clients reach the core
// through the stream sub-package and choose their dialect when their
// connection opens; RFC 6062's Connect and ConnectionBind handlers live in
// connect.go and connectionbind.go, its connection mechanics in the
// tcprelay sub-package.
//
// The request handlers quote the steps of RFC 8489 (STUN) and RFC 8656
// (TURN) that they implement. They write their answer into the worker's
// scratch response and touch sockets only through the small socket
// interface, so they can be driven in tests and fuzzing without a network.
package server
