package offload

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// inNS runs fn on a thread that has joined the network namespace ns (its
// full name under /run/netns): sockets and netlink handles it opens stay
// in ns afterwards.
func inNS(t testing.TB, ns string, fn func()) {
	t.Helper()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		own, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			t.Error(err)
			runtime.UnlockOSThread()
			return
		}
		defer own.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			t.Error(err)
			runtime.UnlockOSThread()
			return
		}
		fn()
		if err := unix.Setns(int(own.Fd()), unix.CLONE_NEWNET); err != nil {
			// The thread stays locked and ends with the goroutine.
			t.Error(err)
			return
		}
		runtime.UnlockOSThread()
	}()
	<-done
}

// rawSender sends hand-built IPv4/UDP packets (IPPROTO_RAW), so that
// their checksum is complete on the wire, as from a NIC, and their TOS and
// DF are the test's.
type rawSender struct{ fd int }

func newRawSender(t testing.TB) *rawSender {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return &rawSender{fd: fd}
}

// send sends payload from src to dst with tos and the DF bit.
func (s *rawSender) send(t testing.TB, src, dst netip.AddrPort, tos byte, payload []byte) {
	t.Helper()
	pkt := udp4(src, dst, tos, payload)
	to := &unix.SockaddrInet4{Addr: dst.Addr().As4()}
	if err := unix.Sendto(s.fd, pkt, 0, to); err != nil {
		t.Fatal(err)
	}
}

// udp4 builds an IPv4 header (DF set, TTL 64) and a UDP header with a
// correct checksum in front of payload.
func udp4(src, dst netip.AddrPort, tos byte, payload []byte) []byte {
	b := make([]byte, 28+len(payload))
	b[0], b[1] = 0x45, tos
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[6:], 0x4000) // DF
	b[8], b[9] = 64, unix.IPPROTO_UDP
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	copy(b[12:], s4[:])
	copy(b[16:], d4[:])
	binary.BigEndian.PutUint16(b[10:], ^fold(sum(b[:20])))
	u := b[20:]
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(len(u)))
	copy(u[8:], payload)
	pseudo := sum(b[12:20]) + uint32(unix.IPPROTO_UDP) + uint32(len(u))
	c := ^fold(pseudo + sum(u))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(u[6:], c)
	return b
}

// sum adds b as big-endian 16-bit words.
func sum(b []byte) uint32 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// datagram is what a receiver got.
type datagram struct {
	data []byte
	from netip.AddrPort
	tos  byte
}

// listenUDP opens a UDP socket on addr that reports each datagram's TOS.
func listenUDP(t testing.TB, addr netip.AddrPort) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_RECVTOS, 1)
	}); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	return c
}

// receive waits up to five seconds for a datagram on c.
func receive(t testing.TB, c *net.UDPConn) datagram {
	t.Helper()
	d, err := tryReceive(c, 5*time.Second)
	if err != nil {
		t.Fatalf("%v: %v", c.LocalAddr(), err)
	}
	return d
}

// tryReceive waits up to limit for a datagram on c.
func tryReceive(c *net.UDPConn, limit time.Duration) (datagram, error) {
	buf, oob := make([]byte, 65536), make([]byte, 128)
	if err := c.SetReadDeadline(time.Now().Add(limit)); err != nil {
		return datagram{}, err
	}
	n, oobn, _, from, err := c.ReadMsgUDPAddrPort(buf, oob)
	if err != nil {
		return datagram{}, err
	}
	d := datagram{data: buf[:n], from: netip.AddrPortFrom(from.Addr().Unmap(), from.Port())}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return datagram{}, err
	}
	found := false
	for _, m := range msgs {
		if m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_TOS && len(m.Data) >= 1 {
			d.tos, found = m.Data[0], true
		}
	}
	if !found {
		return datagram{}, errors.New("no IP_TOS control message")
	}
	return d, nil
}

// channelData frames payload as ChannelData on channel.
func channelData(channel uint16, payload []byte) []byte {
	b := make([]byte, 4+len(payload))
	binary.BigEndian.PutUint16(b, channel)
	binary.BigEndian.PutUint16(b[2:], uint16(len(payload)))
	copy(b[4:], payload)
	return b
}
