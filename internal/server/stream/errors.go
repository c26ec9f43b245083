package stream

import "errors"

// Sentinel errors of this package.
var (
	// ErrNotFramed means a byte stream breaks its framing: what it
	// carries is not the protocol its sniffer claimed.
	ErrNotFramed = errors.New("stream: bytes do not follow the framing")
	// ErrFrameTooLarge means a frame's length exceeds Limits.MaxFrame.
	ErrFrameTooLarge = errors.New("stream: frame too large")
	// ErrFull means a connection's write queue has no room: the message
	// is dropped (a slow or stalled reader).
	ErrFull = errors.New("stream: client connection queue full")
	// ErrClosed means the connection is closed.
	ErrClosed = errors.New("stream: client connection closed")
	// ErrNoProtocol means a listener was given no sniffer.
	ErrNoProtocol = errors.New("stream: listener without protocols")
	// ErrNoTrustedProxy means a listener was given a PROXY protocol mode
	// without the addresses of the proxies to trust.
	ErrNoTrustedProxy = errors.New("stream: PROXY protocol without trusted proxies")
)
