// Package stream is the TCP and TLS transport of the relay's clients
// (RFC 8656 §3.1, and the [MS-TURN] framing over TCP), below the relay
// core as datapath is for UDP. It owns:
//
//   - listening, and admitting connections within the total and
//     per-source limits (netx.Limiter), closing them all on Stop
//     (netx.Tracker);
//   - telling protocols apart by a connection's first bytes: an ordered
//     list of Sniffers given per listener, which TLS (TLS), plain TURN
//     (Plain) and the dialects register, each naming the Framer of what
//     it claims;
//   - a reader per connection that frames the byte stream and hands each
//     burst of complete frames to the Handler (the core), with the
//     handshake, slowloris and idle timeouts; and a writer that flushes a
//     bounded queue, so a stalled client loses its media and then its
//     connection, never holding others back;
//   - turning a connection into a raw byte stream once the Handler says so
//     (RFC 6062 client data connections): the queue is flushed first.
//
// It knows nothing of STUN beyond the framers it is given, nor of
// allocations: the core keeps its state for a connection in Conn.Owner.
package stream
