// Package acme tests the ACME certificates of TLS listeners against Pebble,
// Let's Encrypt's test CA (github.com/letsencrypt/pebble), built from the
// module's tool dependencies and run on loopback with pebble-challtestsrv
// as its DNS server (every name is 127.0.0.1): an edge obtains its
// certificate by TLS-ALPN-01 on its TLS listener, or by HTTP-01 on its
// http_listen port, serves a chain that verifies to Pebble's root, renews
// it when Pebble's short lifetime runs low while a TURN-over-TLS
// allocation of pion/turn's client stays up, and relays for that client.
//
// It holds tests only; relay ports 38000-38999 are its own.
package acme
