package offload

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"
	"unsafe"

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

// rawSender sends hand-built IPv4/UDP and IPv6/UDP packets (IPPROTO_RAW,
// which includes the IP header in both families), so that their checksum
// is complete on the wire, as from a NIC, and their TOS or Traffic Class,
// flow label and DF are the test's.
type rawSender struct{ fd4, fd6 int }

func newRawSender(t testing.TB) *rawSender {
	t.Helper()
	var s rawSender
	for _, f := range []struct {
		family int
		fd     *int
	}{{unix.AF_INET, &s.fd4}, {unix.AF_INET6, &s.fd6}} {
		fd, err := unix.Socket(f.family, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		*f.fd = fd
	}
	return &s
}

// send sends payload from src to dst with tos (the IPv4 TOS byte or the
// IPv6 Traffic Class), for IPv4 the DF bit and for IPv6 a non-zero flow
// label.
func (s *rawSender) send(t testing.TB, src, dst netip.AddrPort, tos byte, payload []byte) {
	t.Helper()
	if dst.Addr().Is4() {
		s.sendPacket(t, dst.Addr(), udp4(src, dst, tos, payload))
		return
	}
	s.sendPacket(t, dst.Addr(), udp6(src, dst, tos, testFlowLabel, false, payload))
}

// sendPacket sends pkt, a whole IP packet, to dst.
func (s *rawSender) sendPacket(t testing.TB, dst netip.Addr, pkt []byte) {
	t.Helper()
	var err error
	if dst.Is4() {
		err = unix.Sendto(s.fd4, pkt, 0, &unix.SockaddrInet4{Addr: dst.As4()})
	} else {
		err = unix.Sendto(s.fd6, pkt, 0, &unix.SockaddrInet6{Addr: dst.As16()})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// testFlowLabel is the flow label of the IPv6 packets the tests send: the
// program must not carry it over.
const testFlowLabel = 0xabcde

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
	putUDP(b[20:], src, dst, payload)
	return b
}

// udp6 builds an IPv6 header (hop limit 64) with Traffic Class tclass and
// flow label flow and a UDP header with a correct checksum in front of
// payload; with destOpts, an 8-byte Destination Options extension header
// (a PadN option) stands between them.
func udp6(src, dst netip.AddrPort, tclass byte, flow uint32, destOpts bool, payload []byte) []byte {
	ext := 0
	if destOpts {
		ext = 8
	}
	b := make([]byte, 40+ext+8+len(payload))
	binary.BigEndian.PutUint32(b[0:], 6<<28|uint32(tclass)<<20|flow&0xfffff)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)-40))
	b[6], b[7] = unix.IPPROTO_UDP, 64
	s16, d16 := src.Addr().As16(), dst.Addr().As16()
	copy(b[8:], s16[:])
	copy(b[24:], d16[:])
	if destOpts {
		b[6] = unix.IPPROTO_DSTOPTS
		b[40], b[41] = unix.IPPROTO_UDP, 0 // next header, length 0 (8 bytes)
		b[42], b[43] = 1, 4                // PadN, 4 bytes of zeros
	}
	putUDP(b[40+ext:], src, dst, payload)
	return b
}

// putUDP writes the UDP header and payload into u, with the checksum over
// the pseudo-header of src and dst's family.
func putUDP(u []byte, src, dst netip.AddrPort, payload []byte) {
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(len(u)))
	copy(u[8:], payload)
	pseudo := sum(src.Addr().AsSlice()) + sum(dst.Addr().AsSlice()) + uint32(unix.IPPROTO_UDP) + uint32(len(u))
	c := ^fold(pseudo + sum(u))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(u[6:], c)
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
	// tos is the IPv4 TOS byte or the IPv6 Traffic Class, hops the TTL or
	// the hop limit. flow is the IPv6 flow label when flowSeen: the
	// kernel reports it when it or the Traffic Class is not zero.
	tos, hops byte
	flow      uint32
	flowSeen  bool
}

// ipv6FlowInfo is IPV6_FLOWINFO of <linux/in6.h> (missing from x/sys/unix):
// as a socket option it asks for the flow information of each datagram.
const ipv6FlowInfo = 11

// listenUDP opens a UDP socket on addr that reports each datagram's TOS
// and TTL (IPv4) or Traffic Class, hop limit and flow label (IPv6).
func listenUDP(t testing.TB, addr netip.AddrPort) *net.UDPConn {
	t.Helper()
	network, level, opts := "udp4", unix.IPPROTO_IP, []int{unix.IP_RECVTOS, unix.IP_RECVTTL}
	if addr.Addr().Is6() {
		network, level, opts = "udp6", unix.IPPROTO_IPV6, []int{unix.IPV6_RECVTCLASS, unix.IPV6_RECVHOPLIMIT, ipv6FlowInfo}
	}
	c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(addr))
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
		for _, o := range opts {
			serr = errors.Join(serr, unix.SetsockoptInt(int(fd), level, o, 1))
		}
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
	buf, oob := make([]byte, 65536), make([]byte, 256)
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
	found := 0
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_TOS && len(m.Data) >= 1:
			d.tos, found = m.Data[0], found+1
		case m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_TTL && len(m.Data) >= 4:
			d.hops, found = byte(binary.NativeEndian.Uint32(m.Data)), found+1
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_TCLASS && len(m.Data) >= 4:
			d.tos, found = byte(binary.NativeEndian.Uint32(m.Data)), found+1
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_HOPLIMIT && len(m.Data) >= 4:
			d.hops, found = byte(binary.NativeEndian.Uint32(m.Data)), found+1
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == ipv6FlowInfo && len(m.Data) >= 4:
			d.flow, d.flowSeen = binary.BigEndian.Uint32(m.Data)&0xfffff, true
		}
	}
	if found != 2 {
		return datagram{}, fmt.Errorf("%d of 2 control messages (TOS or Traffic Class, TTL or hop limit)", found)
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

// capture reads the IP packets that arrive on an interface (an AF_PACKET
// socket), to see a packet's bytes as they were on the wire, before the
// receiving stack trims or checks them.
type capture struct{ fd int }

// newCapture opens a capture on interface name of the calling thread's
// namespace.
func newCapture(t testing.TB, name string) *capture {
	t.Helper()
	iface, err := net.InterfaceByName(name)
	if err != nil {
		t.Fatal(err)
	}
	proto := int(htons(unix.ETH_P_ALL))
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: iface.Index}); err != nil {
		t.Fatal(err)
	}
	tv := unix.Timeval{Sec: 5}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	return &capture{fd: fd}
}

// nextUDP returns the next IP packet (from its IP header to the end of
// the frame) that carries UDP to port, waiting up to five seconds for each
// packet.
func (c *capture) nextUDP(t testing.TB, port uint16) []byte {
	t.Helper()
	buf := make([]byte, 65536)
	for {
		n, _, err := unix.Recvfrom(c.fd, buf, 0)
		if err != nil {
			t.Fatalf("capture: %v", err)
		}
		p := buf[:n]
		udp := -1
		switch {
		case n >= 28 && p[0]>>4 == 4 && p[9] == unix.IPPROTO_UDP:
			udp = int(p[0]&0xf) * 4
		case n >= 48 && p[0]>>4 == 6 && p[6] == unix.IPPROTO_UDP:
			udp = 40
		}
		if udp >= 0 && udp+8 <= n && binary.BigEndian.Uint16(p[udp+2:]) == port {
			return bytes.Clone(p)
		}
	}
}

// htons is the network byte order of v, as AF_PACKET's protocol wants it.
func htons(v uint16) uint16 { return v<<8 | v>>8 }

// From linux/ethtool.h and linux/sockios.h.
const (
	siocEthtool = 0x8946
	ethtoolSGRO = 0x2c // ETHTOOL_SGRO
)

// ethtoolValue is struct ethtool_value.
type ethtoolValue struct{ cmd, data uint32 }

// ifreqData is struct ifreq with ifr_data set.
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer // a pointer, so that the GC and stack moves see it
	_    [24 - 8]byte
}

// enableGRO turns GRO on for interface dev of the calling thread's
// namespace (ethtool -K dev gro on): a veth then runs NAPI, which it needs
// to receive the frames an XDP program redirects to its other end.
func enableGRO(t testing.TB, dev string) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	v := ethtoolValue{cmd: ethtoolSGRO, data: 1}
	var req ifreqData
	copy(req.name[:], dev)
	req.data = unsafe.Pointer(&v)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), siocEthtool, uintptr(unsafe.Pointer(&req))); errno != 0 {
		t.Fatalf("ETHTOOL_SGRO on %s: %v", dev, errno)
	}
}

// skipUnsupported skips the test because the kernel or the privileges
// cannot run the offload (err), or fails it when CI is "true": CI runs
// as root on a kernel that can, and a skip there would hide every test
// of the kernel path.
func skipUnsupported(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("the kernel cannot run the offload, and CI must: %v", err)
	}
	tb.Skipf("the kernel cannot run the offload: %v", err)
}
