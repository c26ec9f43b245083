package probe

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"
)

// transport carries STUN messages (and ChannelData) between the probe and
// the edge: datagrams over UDP, framed messages over TCP or TLS.
type transport interface {
	// send writes one message.
	send(b []byte) error
	// recv returns the next message and where it came from, waiting until
	// deadline. The slice is valid until the next recv.
	recv(deadline time.Time) ([]byte, netip.AddrPort, error)
	// reliable reports whether the transport retransmits by itself.
	reliable() bool
	// local is the probe's address on the transport.
	local() netip.AddrPort
	close() error
}

// maxMessage bounds a message: a STUN header and the largest length field.
const maxMessage = stunHeader + 0xFFFF

// stunHeader is the size of a STUN message header (RFC 8489 §5).
const stunHeader = 20

// udpTransport sends datagrams to the edge from an unconnected socket, so
// that an answer from another address is seen (and reported) too.
type udpTransport struct {
	pc     net.PacketConn
	server net.Addr
	buf    []byte
}

func newUDPTransport(pc net.PacketConn, server netip.AddrPort) *udpTransport {
	return &udpTransport{pc: pc, server: net.UDPAddrFromAddrPort(server), buf: make([]byte, maxMessage)}
}

func (t *udpTransport) send(b []byte) error {
	_, err := t.pc.WriteTo(b, t.server)
	return err
}

func (t *udpTransport) recv(deadline time.Time) ([]byte, netip.AddrPort, error) {
	if err := t.pc.SetReadDeadline(deadline); err != nil {
		return nil, netip.AddrPort{}, err
	}
	n, from, err := t.pc.ReadFrom(t.buf)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	return t.buf[:n], addrPortOf(from), nil
}

func (t *udpTransport) reliable() bool { return false }

func (t *udpTransport) local() netip.AddrPort { return addrPortOf(t.pc.LocalAddr()) }

func (t *udpTransport) close() error { return t.pc.Close() }

// streamTransport frames messages over a TCP or TLS connection: RFC 8656
// §11.5, a STUN message is sent as is, its length field giving its size,
// and ChannelData is padded to a multiple of 4 bytes.
type streamTransport struct {
	conn net.Conn
	r    *bufio.Reader
	buf  []byte
}

func newStreamTransport(conn net.Conn) *streamTransport {
	return &streamTransport{conn: conn, r: bufio.NewReader(conn), buf: make([]byte, maxMessage)}
}

func (t *streamTransport) send(b []byte) error {
	_, err := t.conn.Write(b)
	return err
}

func (t *streamTransport) recv(deadline time.Time) ([]byte, netip.AddrPort, error) {
	if err := t.conn.SetReadDeadline(deadline); err != nil {
		return nil, netip.AddrPort{}, err
	}
	if _, err := io.ReadFull(t.r, t.buf[:4]); err != nil {
		return nil, netip.AddrPort{}, err
	}
	size, err := frameSize(t.buf[:4])
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	if _, err := io.ReadFull(t.r, t.buf[4:size]); err != nil {
		return nil, netip.AddrPort{}, err
	}
	return t.buf[:size], addrPortOf(t.conn.RemoteAddr()), nil
}

// frameSize returns the size of the frame that starts with hdr (4 bytes):
// a STUN message (first two bits 00, RFC 8489 §5) is its header and its
// length; ChannelData (01, RFC 8656 §12.4) is its 4-byte header and its
// length padded to 4 bytes (RFC 8656 §12.5 over TCP and TLS).
func frameSize(hdr []byte) (int, error) {
	n := int(binary.BigEndian.Uint16(hdr[2:4]))
	switch hdr[0] >> 6 {
	case 0:
		return stunHeader + n, nil
	case 1:
		return 4 + (n+3)&^3, nil
	}
	return 0, fmt.Errorf("%w: stream frame starts with %#x, neither STUN nor ChannelData", ErrProtocol, hdr[0])
}

func (t *streamTransport) reliable() bool { return true }

func (t *streamTransport) local() netip.AddrPort { return addrPortOf(t.conn.LocalAddr()) }

func (t *streamTransport) close() error { return t.conn.Close() }

// addrPortOf returns the address of a *net.UDPAddr or *net.TCPAddr, with
// an IPv4-mapped address unmapped; the zero AddrPort for anything else.
func addrPortOf(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.UDPAddr:
		ap = a.AddrPort()
	case *net.TCPAddr:
		ap = a.AddrPort()
	default:
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
