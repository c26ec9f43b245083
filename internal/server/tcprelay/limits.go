package tcprelay

import "time"

// Limits of RFC 6062 TCP relays.
const (
	// BindTimeout: RFC 6062 §5.2 and §5.3, "If no ConnectionBind request
	// associated with this peer data connection is received after 30
	// seconds, the peer data connection MUST be closed."
	BindTimeout = 30 * time.Second
	// ConnectTimeout bounds an outbound connection attempt: RFC 6062
	// §5.2, "If the connection attempt fails or times out, the server
	// MUST return a 447 [...] The timeout value MUST be at least 30
	// seconds."
	ConnectTimeout = 30 * time.Second
	// DefaultPerAllocation is the default bound of the peer connections
	// of one allocation.
	DefaultPerAllocation = 64
	// MaxPending bounds the peer data connections of the whole server
	// that wait for their ConnectionBind.
	MaxPending = 4096
	// copyBuffer is the buffer of each direction of a data connection:
	// what the relay holds at most per direction, so a side that does not
	// read stalls the other through the TCP window.
	copyBuffer = 16 << 10
)
