package datapath

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestTCPListenAndDialShareAddress: a connection dialed from the address a
// listener holds (RFC 6062 relayed address) works both ways, and the
// listener still accepts.
func TestTCPListenAndDialShareAddress(t *testing.T) {
	ln, err := ListenTCP(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	local := ln.Addr().(*net.TCPAddr).AddrPort()
	peer, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := DialTCP(ctx, local, peer.Addr().(*net.TCPAddr).AddrPort())
	if err != nil {
		t.Fatalf("DialTCP: %v", err)
	}
	defer c.Close()
	if got := c.LocalAddr().(*net.TCPAddr).AddrPort(); got != local {
		t.Fatalf("dialed from %v, want %v", got, local)
	}
	pc, err := peer.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(pc, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("peer read %q, %v", buf, err)
	}
	in, err := net.Dial("tcp4", local.String())
	if err != nil {
		t.Fatalf("dial the listener: %v", err)
	}
	defer in.Close()
	_ = ln.SetDeadline(time.Now().Add(5 * time.Second))
	ac, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	ac.Close()
}

func TestTCPErrors(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0") // without SO_REUSEPORT
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().(*net.TCPAddr).AddrPort()
	if _, err := ListenTCP(taken); !errors.Is(err, ErrAddrInUse) {
		t.Errorf("ListenTCP on a taken port: %v, want ErrAddrInUse", err)
	}
	if _, err := ListenTCP(netip.MustParseAddrPort("192.0.2.1:0")); !errors.Is(err, ErrAddrNotAvailable) {
		t.Errorf("ListenTCP on a foreign address: %v, want ErrAddrNotAvailable", err)
	}
	// A closed port on loopback refuses at once.
	closed, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	remote := closed.Addr().(*net.TCPAddr).AddrPort()
	closed.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := DialTCP(ctx, netip.MustParseAddrPort("127.0.0.1:0"), remote); !errors.Is(err, ErrSocket) {
		t.Errorf("DialTCP to a closed port: %v, want ErrSocket", err)
	}
}
