package datapath

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sockopt applies fn to the descriptor of a net.UDPConn.
func sockopt(t testing.TB, p *net.UDPConn, fn func(fd int) error) {
	t.Helper()
	rc, err := p.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var optErr error
	if err := rc.Control(func(fd uintptr) { optErr = fn(int(fd)) }); err != nil {
		t.Fatal(err)
	}
	if optErr != nil {
		t.Fatal(optErr)
	}
}

// tosPeer opens a loopback peer of addr's family that sends with TOS (or
// Traffic Class) tos and reports the TOS of what it receives.
func tosPeer(t testing.TB, addr netip.AddrPort, tos int) *net.UDPConn {
	t.Helper()
	p := peer(t, addr)
	sockopt(t, p, func(fd int) error {
		if addr.Addr().Is4() {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TOS, tos); err != nil {
				return err
			}
			return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVTOS, 1)
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_TCLASS, tos); err != nil {
			return err
		}
		return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS, 1)
	})
	return p
}

// readTOS reads one datagram from a tosPeer and returns it with its TOS or
// Traffic Class.
func readTOS(t testing.TB, p *net.UDPConn) ([]byte, uint8) {
	t.Helper()
	buf, oob := make([]byte, 70000), make([]byte, 256)
	n, oobn, _, _, err := p.ReadMsgUDPAddrPort(buf, oob)
	if err != nil {
		t.Fatalf("peer read: %v", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		t.Fatalf("parse control messages: %v", err)
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_TOS && len(m.Data) >= 1:
			return buf[:n], m.Data[0]
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_TCLASS && len(m.Data) >= 4:
			return buf[:n], uint8(binary.NativeEndian.Uint32(m.Data))
		}
	}
	t.Fatalf("no TOS control message among %d", len(msgs))
	return nil, 0
}

// cmsg encodes one control message as the kernel lays it out.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func TestParseControl(t *testing.T) {
	tclass := binary.NativeEndian.AppendUint32(nil, 0xB9)
	v4 := cmsg(unix.IPPROTO_IP, unix.IP_TOS, []byte{0xB8})
	v6 := cmsg(unix.IPPROTO_IPV6, unix.IPV6_TCLASS, tclass)
	ovfl := cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, binary.NativeEndian.AppendUint32(nil, 0xFFFFFFFE))
	other := cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMP, make([]byte, 16))
	tooLong := append([]byte(nil), v4...)
	(*unix.Cmsghdr)(unsafe.Pointer(&tooLong[0])).SetLen(len(tooLong) + 1)
	tooShort := append([]byte(nil), v4...)
	(*unix.Cmsghdr)(unsafe.Pointer(&tooShort[0])).SetLen(unix.CmsgLen(0) - 1)
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tos := func(v uint8) control { return control{meta: Meta{TOS: v}} }
	tests := []struct {
		name string
		b    []byte
		want control
	}{
		{"none", nil, control{}},
		{"IP_TOS", v4, tos(0xB8)},
		{"IPV6_TCLASS", v6, tos(0xB9)},
		{"after another message", cat(other, v6), tos(0xB9)},
		{"only another message", other, control{}},
		{"SO_RXQ_OVFL", ovfl, control{drops: 0xFFFFFFFE, hasDrops: true}},
		{"IP_TOS and SO_RXQ_OVFL", cat(v4, ovfl), control{meta: Meta{TOS: 0xB8}, drops: 0xFFFFFFFE, hasDrops: true}},
		{"SO_RXQ_OVFL and IPV6_TCLASS", cat(ovfl, v6), control{meta: Meta{TOS: 0xB9}, drops: 0xFFFFFFFE, hasDrops: true}},
		{"SO_RXQ_OVFL too short", cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, []byte{1, 2}), control{}},
		{"IP_TOS without data", cmsg(unix.IPPROTO_IP, unix.IP_TOS, nil), control{}},
		{"IPV6_TCLASS too short", cmsg(unix.IPPROTO_IPV6, unix.IPV6_TCLASS, []byte{1}), control{}},
		{"length beyond the buffer", tooLong, control{}},
		{"length below the header", tooShort, control{}},
		{"truncated header", v4[:unix.CmsgLen(0)-1], control{}},
	}
	for _, tt := range tests {
		if got := parseControl(tt.b); got != tt.want {
			t.Errorf("%s: parseControl = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestWorkerTOS carries the TOS byte of each datagram a worker reads over to
// the datagram it sends back: the peer marks its datagrams and reads the
// marking on the echo. A Conn without RecvTOS reports 0.
func TestWorkerTOS(t *testing.T) {
	requireIPv6(t)
	tests := []struct {
		name    string
		addr    netip.AddrPort
		recvTOS bool
		tos     int
		want    uint8
	}{
		{"ipv4 EF", loop4, true, 0xB8, 0xB8},
		{"ipv4 AF41 with ECT(0)", loop4, true, 0x8A, 0x8A},
		{"ipv6 EF with CE", loop6, true, 0xBB, 0xBB},
		{"ipv4 unmarked", loop4, true, 0, 0},
		{"ipv4 without RecvTOS", loop4, false, 0xB8, 0},
		{"ipv6 without RecvTOS", loop6, false, 0xB8, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := listen(t, tt.addr, ListenConfig{RecvTOS: tt.recvTOS})
			seen := make(chan uint8, 1)
			h := funcHandler{packetMeta: func(c *Conn, from netip.AddrPort, buf []byte, off, n int, meta Meta) {
				seen <- meta.TOS
				_ = c.WriteToTOS(buf[off:off+n], from, meta.TOS)
			}}
			runWorker(t, h, WorkerOptions{}, c)
			p := tosPeer(t, tt.addr, tt.tos)
			if _, err := p.WriteToUDPAddrPort([]byte("marked"), c.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			got, tos := readTOS(t, p)
			if string(got) != "marked" || tos != tt.want {
				t.Fatalf("echo %q with TOS %#x, want %q with %#x", got, tos, "marked", tt.want)
			}
			if m := <-seen; m != tt.want {
				t.Fatalf("Meta.TOS = %#x, want %#x", m, tt.want)
			}
		})
	}
}

func TestWriteToTOS(t *testing.T) {
	requireIPv6(t)
	p4, p6 := tosPeer(t, loop4, 0), tosPeer(t, loop6, 0)
	a4 := p4.LocalAddr().(*net.UDPAddr).AddrPort()
	a6 := p6.LocalAddr().(*net.UDPAddr).AddrPort()
	c4, c6 := listen(t, loop4, ListenConfig{}), listen(t, loop6, ListenConfig{})
	tests := []struct {
		name    string
		c       *Conn
		to      netip.AddrPort
		payload []byte
		tos     uint8
		wantErr error
	}{
		{"ipv4", c4, a4, []byte("v4"), 0xB8, nil},
		{"ipv4 zero", c4, a4, []byte("v4 plain"), 0, nil},
		{"ipv6", c6, a6, []byte("v6"), 0x2A, nil},
		{"ipv4 empty", c4, a4, []byte{}, 0x01, nil},
		{"wrong family", c4, a6, []byte("x"), 0xB8, ErrBadAddress},
		{"too large", c4, a4, make([]byte, 70000), 0xB8, unix.EMSGSIZE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.WriteToTOS(tt.payload, tt.to, tt.tos)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("WriteToTOS = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			p := p4
			if tt.c == c6 {
				p = p6
			}
			got, tos := readTOS(t, p)
			if !bytes.Equal(got, tt.payload) || tos != tt.tos {
				t.Fatalf("peer got %q with TOS %#x, want %q with %#x", got, tos, tt.payload, tt.tos)
			}
		})
	}
	if err := c4.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c4.WriteToTOS([]byte("x"), a4, 0xB8); !errors.Is(err, ErrClosed) {
		t.Fatalf("WriteToTOS after Close = %v, want ErrClosed", err)
	}
}

func TestWriteToTOSAllocs(t *testing.T) {
	requireIPv6(t)
	sink4, sink6 := listen(t, loop4, ListenConfig{}), listen(t, loop6, ListenConfig{})
	c4, c6 := listen(t, loop4, ListenConfig{}), listen(t, loop6, ListenConfig{})
	payload := make([]byte, 200)
	for _, tt := range []struct {
		name string
		c    *Conn
		b    []byte
		to   netip.AddrPort
	}{
		{"ipv4", c4, payload, sink4.LocalAddr()},
		{"ipv6", c6, payload, sink6.LocalAddr()},
		{"send error", c4, make([]byte, 70000), sink4.LocalAddr()},
	} {
		if n := testing.AllocsPerRun(1000, func() { _ = tt.c.WriteToTOS(tt.b, tt.to, 0xB8) }); n != 0 {
			t.Errorf("%s: WriteToTOS allocates %v times per call, want 0", tt.name, n)
		}
	}
}

func TestRecvTOSOption(t *testing.T) {
	requireIPv6(t)
	for _, addr := range []netip.AddrPort{loop4, loop6} {
		level, opt := unix.IPPROTO_IP, unix.IP_RECVTOS
		if addr.Addr().Is6() {
			level, opt = unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS
		}
		for _, on := range []bool{false, true} {
			c := listen(t, addr, ListenConfig{RecvTOS: on})
			v, err := unix.GetsockoptInt(c.fd, level, opt)
			if err != nil || (v != 0) != on {
				t.Errorf("%v RecvTOS %v: option reads %d (%v)", addr, on, v, err)
			}
		}
	}
}

// TestDontFragmentKernel checks that SetDontFragment sets what the Linux
// kernel holds: IP_PMTUDISC_DO on IPv4.
func TestDontFragmentKernel(t *testing.T) {
	c := listen(t, loop4, ListenConfig{})
	if err := c.SetDontFragment(true); err != nil {
		t.Fatal(err)
	}
	if v, err := unix.GetsockoptInt(c.fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER); err != nil || v != unix.IP_PMTUDISC_DO {
		t.Fatalf("IP_MTU_DISCOVER = %d (%v), want IP_PMTUDISC_DO", v, err)
	}
}
