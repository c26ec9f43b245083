// Package libnice proves with libnice, a real [MS-TURN] client independent
// of avedge, that the edge relays for Office Communicator-style clients.
// testdata/agents.c runs two libnice agents in the
// NICE_COMPATIBILITY_OC2007R2 mode in one process, gives each agent only the
// other's relayed candidates, and once both are READY has each send
// numbered messages to the other; it prints one JSON line with what each
// agent did. Against an edge started by internal/edgetest, the tests check
// that:
//
//   - over TURN over UDP, TCP and pseudo-TLS (the TLS listener), both
//     agents select a relayed-to-relayed pair on the edge's relay ports,
//     every message arrives once, and the edge counts the two allocations,
//     the relayed packets, and no allocation once the agents closed;
//   - with a wrong password neither agent gets a relayed candidate, and the
//     edge counts the failed authentications and allocates nothing;
//   - when the edge's peer policy refuses loopback peers, both agents
//     allocate but never become READY, and the edge relays nothing;
//   - a front end's MRAS request ([MS-AVEDGEA]: SIP SERVICE over mutual TLS
//     to the credential service) gets credentials and media relays whose
//     base64 username and password, handed to libnice as they are, carry a
//     relay-to-relay call over UDP and pseudo-TLS;
//   - a call outlives its credential: libnice's refreshes over UDP pass
//     past the credential's expiry, the edge keeps allocations over
//     pseudo-TLS (which libnice never refreshes) alive past their
//     lifetime, messages keep flowing over UDP, TCP and pseudo-TLS, and
//     new Allocates with the expired credential get the dialect's 436.
//
// The program is compiled once per test binary with gcc and
// `pkg-config --cflags --libs nice`; scripts/install-test-deps installs
// Debian's gcc, pkg-config and libnice-dev, and a missing one fails the
// tests. The cases run in parallel, each with its own edge on its own block
// of relay ports: 36000-36999 are this package's.
package libnice
