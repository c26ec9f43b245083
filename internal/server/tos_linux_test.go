package server

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"golang.org/x/sys/unix"

	"github.com/avedge/avedge/internal/stunproto"
)

// TestTOSCarriedOver: the DSCP and ECN bits of a relayed datagram survive
// the edge in both directions (RFC 8656 §14, preferred behaviour: "Set the
// outgoing value to the incoming value"), for ChannelData and for Send and
// Data indications, over IPv4 and IPv6 relayed addresses.
func TestTOSCarriedOver(t *testing.T) {
	requireIPv6(t)
	e := newTestEdge(t, withIPv6)
	u, p := e.credential("alice", time.Hour)
	for _, tc := range []struct {
		name       string
		peerIP     string
		attrs      []stun.Setter
		channel    bool
		clientTOS  int // what the client marks its datagrams with
		peerTOS    int // what the peer marks its datagrams with
		wantToPeer uint8
		wantToClnt uint8
	}{
		{"ipv4 channel, EF and AF41+ECT(0)", "127.0.0.1", nil, true, 0xB8, 0x8A, 0xB8, 0x8A},
		{"ipv4 indications, CS1+CE", "127.0.0.1", nil, false, 0x23, 0x23, 0x23, 0x23},
		{"ipv6 relay channel, EF both ways", "::1", []stun.Setter{askIPv6}, true, 0xB8, 0xB8, 0xB8, 0xB8},
		{"ipv6 relay indications, ECT(1)", "::1", []stun.Setter{askIPv6}, false, 0x01, 0x01, 0x01, 0x01},
		{"unmarked", "127.0.0.1", nil, true, 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.newClient(u, p)
			relayed := c.allocate(tc.attrs...)
			pr := newPeer(t, tc.peerIP)
			setTOS(t, c.conn, tc.clientTOS)
			setTOS(t, pr.conn, tc.peerTOS)
			payload := []byte("marked media")
			if tc.channel {
				wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(pr.addr())), 0)
				c.send(channelData(0x4000, payload))
			} else {
				wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(pr.addr())), 0)
				c.send(stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
					peerAttr(pr.addr()), stunproto.Data(payload), stun.Fingerprint).Raw)
			}
			got, tos := readTOS(t, pr.conn)
			if !bytes.Equal(got, payload) || tos != tc.wantToPeer {
				t.Fatalf("peer got %q with TOS %#x, want %q with %#x", got, tos, payload, tc.wantToPeer)
			}
			pr.sendTo([]byte("marked reply"), relayed)
			msg, tos := readTOS(t, c.conn)
			if tos != tc.wantToClnt {
				t.Fatalf("client got its %d bytes with TOS %#x, want %#x", len(msg), tos, tc.wantToClnt)
			}
			var reply []byte
			if tc.channel {
				_, reply, _ = stunproto.ParseChannelData(msg)
			} else {
				m := new(stun.Message)
				var data stunproto.Data
				if stun.Decode(msg, m) == nil && data.GetFrom(m) == nil {
					reply = data
				}
			}
			if string(reply) != "marked reply" {
				t.Fatalf("client got %x, want the peer's reply", msg)
			}
		})
	}
}

// setTOS marks what conn sends with the IPv4 TOS byte or IPv6 Traffic Class
// tos and makes the kernel report the marking of what it receives.
func setTOS(t *testing.T, conn *net.UDPConn, tos int) {
	t.Helper()
	rc, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	v4 := conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Is4()
	var optErr error
	err = rc.Control(func(fd uintptr) {
		if v4 {
			if optErr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_TOS, tos); optErr == nil {
				optErr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_RECVTOS, 1)
			}
			return
		}
		if optErr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_TCLASS, tos); optErr == nil {
			optErr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS, 1)
		}
	})
	if err != nil || optErr != nil {
		t.Fatalf("setting TOS: %v, %v", err, optErr)
	}
}

// readTOS reads one datagram from conn, which setTOS prepared, and returns
// it with its TOS byte or Traffic Class.
func readTOS(t *testing.T, conn *net.UDPConn) ([]byte, uint8) {
	t.Helper()
	buf, oob := make([]byte, 65536), make([]byte, 128)
	_ = conn.SetReadDeadline(time.Now().Add(ioTimeout))
	n, oobn, _, _, err := conn.ReadMsgUDPAddrPort(buf, oob)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_TOS && len(m.Data) == 1:
			return buf[:n], m.Data[0]
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_TCLASS && len(m.Data) == 4:
			return buf[:n], uint8(binary.NativeEndian.Uint32(m.Data))
		}
	}
	t.Fatal("no TOS control message")
	return nil, 0
}
