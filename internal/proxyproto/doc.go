// Package proxyproto reads the PROXY protocol header, version 1 (text) and
// version 2 (binary), that a proxy or load balancer sends ahead of a
// connection's own bytes to tell the server the client's address (HAProxy's
// doc/proxy-protocol.txt).
//
// Read takes exactly the header's bytes from the connection and no more, so
// that whatever follows (a TLS ClientHello, STUN) is still there for the
// next reader. It is meant for a connection accepted from a trusted proxy:
// the header is believed as it stands.
package proxyproto
