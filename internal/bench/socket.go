package bench

import (
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// sockBuf is the kernel buffer size asked for on every socket, room for
// bursts.
const sockBuf = 1 << 20

// batchConn reads and writes batches of datagrams (recvmmsg/sendmmsg on
// Linux). ipv4.Message and ipv6.Message are the same type.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// socket is a UDP socket with batched I/O.
type socket struct {
	conn  *net.UDPConn
	batch batchConn
}

// listen opens a UDP socket on local with batched I/O and large buffers.
func listen(local netip.AddrPort) (*socket, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(local))
	if err != nil {
		return nil, fmt.Errorf("bench: listen %v: %w", local, err)
	}
	// Best effort: the kernel caps the sizes at net.core.[rw]mem_max.
	_ = c.SetReadBuffer(sockBuf)
	_ = c.SetWriteBuffer(sockBuf)
	s := &socket{conn: c}
	if local.Addr().Is4() {
		s.batch = ipv4.NewPacketConn(c)
	} else {
		s.batch = ipv6.NewPacketConn(c)
	}
	return s, nil
}

// listenFor opens a socket on an ephemeral port of the loopback or
// unspecified address of dst's family.
func listenFor(dst netip.AddrPort) (*socket, error) {
	if dst.Addr().Is4() {
		return listen(netip.AddrPortFrom(netip.IPv4Unspecified(), 0))
	}
	return listen(netip.AddrPortFrom(netip.IPv6Unspecified(), 0))
}

// newMessages returns n messages with buffers of size bytes each.
func newMessages(n, size int) []ipv4.Message {
	ms := make([]ipv4.Message, n)
	for i := range ms {
		ms[i].Buffers = [][]byte{make([]byte, size)}
	}
	return ms
}
