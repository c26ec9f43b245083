// Package server composes avedge's STUN/TURN relay out of the codec
// (stunproto), authentication (auth), peer policy (policy), allocation state
// (allocation) and the packet loop (datapath).
//
// Each packet worker owns one SO_REUSEPORT client socket per listener, the
// relay sockets of the allocations that arrived on it (one per address
// family, two for a dual allocation) and the allocation table for them, so
// the forwarding path takes no lock and allocates nothing. Only the port
// pools (one per relay address), the port reservations of EVEN-PORT and the
// quota counters are shared between workers, and they are touched on the
// control path alone.
//
// The request handlers quote the steps of RFC 8489 (STUN) and RFC 8656
// (TURN) that they implement. They write their answer into the worker's
// scratch response and touch sockets only through the small socket interface,
// so they can be driven in tests and fuzzing without a network.
package server
