package stream

import "time"

// Limits bound the TCP and TLS connections of clients. Zero fields take
// the defaults named on each.
type Limits struct {
	// Connections bounds all client connections (default 16384);
	// ConnectionsPerSource those from one IP address (default 64).
	Connections, ConnectionsPerSource int
	// HandshakeTimeout bounds the wait for a connection's first bytes and
	// its handshake (default 10s).
	HandshakeTimeout time.Duration
	// FrameTimeout bounds how long a begun frame may take to arrive in
	// full (default 10s), so a client that sends part of a message and
	// stops is disconnected.
	FrameTimeout time.Duration
	// IdleTimeout closes a connection that holds no allocation and sends
	// nothing for this long (default 30s).
	IdleTimeout time.Duration
	// WriteTimeout disconnects a client that takes longer than this to
	// accept the bytes queued for it (default 10s).
	WriteTimeout time.Duration
	// MaxFrame is the largest frame accepted from a client (default 9216
	// bytes, the largest datagram the UDP path relays); a larger length
	// field closes the connection.
	MaxFrame int
	// WriteQueue is the number of bytes queued for a client before media
	// to it is dropped (default 32 KiB).
	WriteQueue int
}

const (
	defaultConnections  = 16384
	defaultPerSource    = 64
	defaultHandshake    = 10 * time.Second
	defaultFrameTimeout = 10 * time.Second
	defaultIdleTimeout  = 30 * time.Second
	defaultWriteTimeout = 10 * time.Second
	defaultMaxFrame     = 9216
	defaultWriteQueue   = 32 << 10
	// MaxFrame stays between a STUN header with 1 KiB of attributes and
	// the largest STUN message a 16-bit length allows.
	minMaxFrame = 20 + 1024
	maxMaxFrame = 20 + 0xFFFF
	readSlack   = 4096 // read room beyond one frame
	// heldIdleTimeout is the idle timeout of a connection that holds an
	// allocation: the allocation's own lifetime rules it.
	heldIdleTimeout = time.Hour
)

// WithDefaults returns l with its zero fields filled in and MaxFrame and
// WriteQueue within their bounds.
func (l Limits) WithDefaults() Limits {
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
	def(&l.Connections, defaultConnections)
	def(&l.ConnectionsPerSource, defaultPerSource)
	def(&l.MaxFrame, defaultMaxFrame)
	def(&l.WriteQueue, defaultWriteQueue)
	defd(&l.HandshakeTimeout, defaultHandshake)
	defd(&l.FrameTimeout, defaultFrameTimeout)
	defd(&l.IdleTimeout, defaultIdleTimeout)
	defd(&l.WriteTimeout, defaultWriteTimeout)
	l.MaxFrame = min(max(l.MaxFrame, minMaxFrame), maxMaxFrame)
	l.WriteQueue = max(l.WriteQueue, l.MaxFrame+128)
	return l
}
