package pion

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// newUDPEcho is a UDP peer on 127.0.0.1 that sends every datagram back to
// where it came from, until the test ends.
func newUDPEcho(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_, _ = c.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	return c
}

// echoRound sends msg through relay to the echo peer and checks that it
// comes back from the peer.
func echoRound(t *testing.T, relay net.PacketConn, echo *net.UDPConn, msg []byte) {
	t.Helper()
	if _, err := relay.WriteTo(msg, echo.LocalAddr()); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, 1500)
	_ = relay.SetReadDeadline(time.Now().Add(ioTimeout))
	n, from, err := relay.ReadFrom(buf)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(buf[:n], msg) || from.String() != echo.LocalAddr().String() {
		t.Fatalf("got %q from %v, want %q from %v", buf[:n], from, msg, echo.LocalAddr())
	}
}
