package loopback

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// UDPEcho is a UDP peer on ip (a loopback address: the edges of the tests
// refuse their own address as a peer, so it is usually not 127.0.0.1's
// edge's) that sends every datagram back to where it came from, until the
// test ends.
func UDPEcho(t testing.TB, ip string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
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

// EchoRound sends msg through relay (a TURN client's relayed connection) to
// echo and checks that it comes back from echo within timeout.
func EchoRound(t testing.TB, relay net.PacketConn, echo *net.UDPConn, msg []byte, timeout time.Duration) {
	t.Helper()
	if _, err := relay.WriteTo(msg, echo.LocalAddr()); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, 1500)
	_ = relay.SetReadDeadline(time.Now().Add(timeout))
	n, from, err := relay.ReadFrom(buf)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(buf[:n], msg) || from.String() != echo.LocalAddr().String() {
		t.Fatalf("got %q from %v, want %q from %v", buf[:n], from, msg, echo.LocalAddr())
	}
}
