package server

import (
	"fmt"

	"github.com/avedge/avedge/internal/datapath"
)

// Default kernel buffer sizes of the UDP sockets. A client socket carries
// the traffic of every allocation of its worker, so it gets room for
// bursts of thousands of datagrams; relay sockets are many (one per
// allocation and family) and each carries one peer's media, so they get
// less. The kernel only charges what is queued, and without CAP_NET_ADMIN
// caps the sizes at net.core.rmem_max and wmem_max.
const (
	defaultClientBuffer = 4 << 20
	defaultRelayBuffer  = 256 << 10
)

// SocketBuffers sizes the kernel receive and send buffers (SO_RCVBUF and
// SO_SNDBUF, or the FORCE variants where the process may) of the UDP
// sockets, in bytes. Zero fields take the defaults: 4 MiB for client
// sockets, 256 KiB for relay sockets.
type SocketBuffers struct {
	// ClientRecv and ClientSend size each worker's client-facing socket.
	ClientRecv, ClientSend int
	// RelayRecv and RelaySend size each relay socket.
	RelayRecv, RelaySend int
}

// withDefaults fills zero fields and rejects negative ones.
func (b SocketBuffers) withDefaults() (SocketBuffers, error) {
	for _, f := range []struct {
		v   *int
		def int
	}{
		{&b.ClientRecv, defaultClientBuffer},
		{&b.ClientSend, defaultClientBuffer},
		{&b.RelayRecv, defaultRelayBuffer},
		{&b.RelaySend, defaultRelayBuffer},
	} {
		switch {
		case *f.v < 0:
			return b, fmt.Errorf("server: negative socket buffer size %d", *f.v)
		case *f.v == 0:
			*f.v = f.def
		}
	}
	return b, nil
}

// client is the ListenConfig of a worker's client socket: SO_REUSEPORT, the
// TOS byte of every datagram (RFC 8656 §14) and kernel drop counts.
func (b SocketBuffers) client() datapath.ListenConfig {
	return datapath.ListenConfig{ReusePort: true, RecvBuffer: b.ClientRecv, SendBuffer: b.ClientSend,
		RecvTOS: true, RecvDrops: true}
}

// relay is the ListenConfig of a relay socket: the TOS byte of every
// datagram, so that it can be carried over to the client (RFC 8656 §14),
// and kernel drop counts.
func (b SocketBuffers) relay() datapath.ListenConfig {
	return datapath.ListenConfig{RecvBuffer: b.RelayRecv, SendBuffer: b.RelaySend, RecvTOS: true, RecvDrops: true}
}
