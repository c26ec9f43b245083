// Package tcprelay holds the connection mechanics of RFC 6062 TCP relays:
// a peer data connection (PeerConn) from the Connect or the inbound
// connection that makes it to its end; the server-wide Registry where it
// waits, at most BindTimeout, for the ConnectionBind that joins it with a
// client data connection (which may reach another worker than the
// allocation's); Splice, which then copies bytes both ways through bounded
// buffers with back-pressure; and the Counters of it all.
//
// It knows neither STUN messages nor allocations: the core's Connect and
// ConnectionBind handlers (internal/server, beside Allocate) decide, and
// keep their own state for a connection in PeerConn.Owner.
package tcprelay
