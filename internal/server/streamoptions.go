package server

import (
	"net/netip"
	"time"
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
}

// StreamLimits bound the TCP and TLS connections of clients. Zero fields
// take the defaults named on each.
type StreamLimits struct {
	// Connections bounds all client connections (default 16384);
	// ConnectionsPerSource those from one IP address (default 64).
	Connections, ConnectionsPerSource int
	// HandshakeTimeout bounds the wait for a connection's first byte and
	// its TLS handshake (default 10s).
	HandshakeTimeout time.Duration
	// FrameTimeout bounds how long a begun message may take to arrive in
	// full (default 10s), so a client that sends part of a message and
	// stops is disconnected.
	FrameTimeout time.Duration
	// IdleTimeout closes a connection that holds no allocation and sends
	// nothing for this long (default 30s).
	IdleTimeout time.Duration
	// WriteTimeout disconnects a client that takes longer than this to
	// accept the bytes queued for it (default 10s).
	WriteTimeout time.Duration
	// MaxFrame is the largest message accepted from a client (default
	// 9216 bytes, the largest datagram the UDP path relays); a larger
	// length field closes the connection.
	MaxFrame int
	// WriteQueue is the number of bytes queued for a client before media
	// to it is dropped (default 32 KiB).
	WriteQueue int
}

const (
	defaultStreamConnections   = 16384
	defaultStreamPerSource     = 64
	defaultStreamHandshake     = 10 * time.Second
	defaultStreamFrameTimeout  = 10 * time.Second
	defaultStreamIdleTimeout   = 30 * time.Second
	defaultStreamWriteTimeout  = 10 * time.Second
	defaultStreamMaxFrame      = 9216
	defaultStreamWriteQueue    = 32 << 10
	minStreamMaxFrame          = stunHeaderSize + 1024
	streamReadSlack            = 4096 // read room beyond one frame
	maxStreamMaxFrame          = stunHeaderSize + 0xFFFF
	allocatedStreamIdleTimeout = time.Hour
)

// withDefaults fills in the zero fields of l.
func (l StreamLimits) withDefaults() StreamLimits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.Connections, defaultStreamConnections)
	def(&l.ConnectionsPerSource, defaultStreamPerSource)
	def(&l.MaxFrame, defaultStreamMaxFrame)
	def(&l.WriteQueue, defaultStreamWriteQueue)
	defd(&l.HandshakeTimeout, defaultStreamHandshake)
	defd(&l.FrameTimeout, defaultStreamFrameTimeout)
	defd(&l.IdleTimeout, defaultStreamIdleTimeout)
	defd(&l.WriteTimeout, defaultStreamWriteTimeout)
	l.MaxFrame = min(max(l.MaxFrame, minStreamMaxFrame), maxStreamMaxFrame)
	l.WriteQueue = max(l.WriteQueue, l.MaxFrame+128)
	return l
}
