// Package msdialect is the [MS-TURN] dialect of the relay: how Lync and
// Skype for Business clients allocate, refresh, send, set their active
// destination and exchange raw media, over UDP, framed TCP and pseudo-TLS.
// With the codec (internal/msturn) and MRAS (internal/credsvc/mras) it is
// the whole Microsoft surface of avedge: it can be read, switched off
// (ms_turn.enabled) or deleted together.
//
// The dialect owns its per-allocation State and its handlers, which quote
// the steps of [MS-TURN] they implement. Everything else — the session
// table, quotas, ports, the peer policy, bandwidth, refusals and
// redirects, the answer cache, sending — it reaches through Core, a small
// interface the relay core (internal/server) implements, so both dialects
// share one implementation of each. The core decides which dialect a
// client 5-tuple speaks, once, and calls a Handler for the datagrams,
// frames and peer packets of [MS-TURN] allocations.
package msdialect
