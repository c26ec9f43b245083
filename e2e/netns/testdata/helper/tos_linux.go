package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// tosSocket reads the TOS byte (IPv4) or Traffic Class (IPv6) of each
// datagram a UDP socket receives, and sets that of what it sends: the
// DSCP and ECN bits the relay must carry over.
type tosSocket struct {
	conn *net.UDPConn
	v6   bool
	oob  []byte
}

// newTOSSocket asks the kernel to report the TOS byte or Traffic Class of
// conn's datagrams (IP_RECVTOS, IPV6_RECVTCLASS).
func newTOSSocket(conn *net.UDPConn) (*tosSocket, error) {
	local, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok {
		return nil, fmt.Errorf("%w: not a UDP socket", errUsage)
	}
	s := &tosSocket{conn: conn, v6: local.IP.To4() == nil, oob: make([]byte, unix.CmsgSpace(4))}
	level, opt := unix.IPPROTO_IP, unix.IP_RECVTOS
	if s.v6 {
		level, opt = unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS
	}
	return s, s.setsockopt(level, opt, 1)
}

// set makes conn send with the TOS byte or Traffic Class tos.
func (s *tosSocket) set(tos int) error {
	if s.v6 {
		return s.setsockopt(unix.IPPROTO_IPV6, unix.IPV6_TCLASS, tos)
	}
	return s.setsockopt(unix.IPPROTO_IP, unix.IP_TOS, tos)
}

func (s *tosSocket) setsockopt(level, opt, v int) error {
	rc, err := s.conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), level, opt, v) }); err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("helper: setsockopt %d/%d: %w", level, opt, serr)
	}
	return nil
}

// read reads one datagram into b and returns its size, its source and its
// TOS byte or Traffic Class (-1 when the kernel did not report it).
func (s *tosSocket) read(b []byte) (int, netip.AddrPort, int, error) {
	n, oobn, _, from, err := s.conn.ReadMsgUDPAddrPort(b, s.oob)
	if err != nil {
		return 0, netip.AddrPort{}, -1, fmt.Errorf("helper: read: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(s.oob[:oobn])
	if err != nil {
		return 0, netip.AddrPort{}, -1, fmt.Errorf("helper: control messages: %w", err)
	}
	tos := -1
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_TOS && len(m.Data) >= 1:
			tos = int(m.Data[0])
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_TCLASS && len(m.Data) >= 4:
			tos = int(binary.NativeEndian.Uint32(m.Data))
		}
	}
	return n, from, tos, nil
}
