// Package edgetest runs a whole development-style edge — the relay with UDP,
// TCP and TLS client listeners and the credential service with mutual TLS —
// on loopback for the length of a test. Like net/http/httptest, it is
// imported only by tests.
//
// Start builds the edge from the real pieces: server.New with a UDP
// listener, a plain TCP listener and a TLS listener whose certificate an
// internal/pki CA issued for "localhost" and 127.0.0.1, an ephemeral
// credential keyring with a random secret shared with the credential
// service, and the peer policy of a development edge (loopback peers
// allowed) unless Options.DenyLoopbackPeers says otherwise.
package edgetest
