package pion

import (
	"bytes"
	"errors"
	"io"
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

// tcpEcho is a TCP server on 127.0.0.1 that echoes every connection it
// accepts and hands it to accepted.
type tcpEcho struct {
	ln       *net.TCPListener
	accepted chan net.Conn
}

func newTCPEcho(t *testing.T) *tcpEcho {
	t.Helper()
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &tcpEcho{ln: ln, accepted: make(chan net.Conn, 16)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			p.accepted <- c
			go func() { _, _ = io.Copy(c, c) }()
		}
	}()
	return p
}

// next returns the next connection the echo accepted.
func (p *tcpEcho) next(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-p.accepted:
		return c
	case <-time.After(ioTimeout):
		t.Fatal("the TCP echo accepted no connection")
		return nil
	}
}

// relayBoth checks that msg crosses from a to b and from b to a.
func relayBoth(t *testing.T, a, b net.Conn, msg string) {
	t.Helper()
	for _, dir := range [][2]net.Conn{{a, b}, {b, a}} {
		if _, err := dir[0].Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, len(msg))
		_ = dir[1].SetReadDeadline(time.Now().Add(ioTimeout))
		if _, err := io.ReadFull(dir[1], buf); err != nil || string(buf) != msg {
			t.Fatalf("read %q, %v; want %q", buf, err, msg)
		}
	}
}

// wantClosed checks that the other end closes c.
func wantClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	buf := make([]byte, 64)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var op *net.OpError
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.As(err, &op) && !op.Timeout() {
			return
		}
		t.Fatalf("connection not closed by the edge: %v", err)
	}
}
