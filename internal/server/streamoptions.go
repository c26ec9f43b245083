package server

import (
	"net/netip"

	"github.com/avedge/avedge/internal/server/stream"
)

// StreamListener is a TCP address where clients reach the relay with TURN
// over TCP, over TLS, or both on one port (RFC 8656 §3.1). The first byte a
// client sends tells the two apart: 0x16 opens a TLS handshake record, while
// STUN starts with the bits 00 and ChannelData with 01.
type StreamListener struct {
	// Addr is the address to bind; port 0 picks a free port.
	Addr netip.AddrPort
	// Plain accepts TURN over plain TCP.
	Plain bool
	// Certs, if set, accepts TURN over TLS (1.2 or later) with the
	// certificate it holds, which may be replaced while serving.
	Certs *CertStore
	// Proxy, if set, puts the listener behind proxies that open each
	// connection with a PROXY protocol header: the client's address it
	// names is the one the relay sees (XOR-MAPPED-ADDRESS, nonce
	// binding, limits, records, logs).
	Proxy stream.Proxy
	// TLS is the listener's TLS policy (ALPN, oldest version, ACME
	// TLS-ALPN-01), with Certs.
	TLS TLSPolicy
	// Tenant, if set, binds the listener to that tenant of Options.Auth
	// (see Tenant.UDPListeners).
	Tenant string
}
