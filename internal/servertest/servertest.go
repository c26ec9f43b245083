// Package servertest holds helpers for tests that run avedge's servers on
// loopback: running a server for the length of a test, and a bare
// forwarder for the load generator's --raw mode. Like net/http/httptest, it
// is imported only by tests.
package servertest

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"
)

// StopTimeout bounds how long a server may take to stop at the end of a
// test.
const StopTimeout = 5 * time.Second

// Runner is a server that serves until its context ends, such as
// *server.Server.
type Runner interface {
	Run(ctx context.Context) error
}

// Serve runs srv until the test ends. The test fails if Run returns an
// error or does not return within StopTimeout of the end.
func Serve(tb testing.TB, srv Runner) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("server Run: %v", err)
			}
		case <-time.After(StopTimeout):
			tb.Error("server did not stop")
		}
	})
}

// Forwarder runs a bare UDP forwarder on 127.0.0.1 until the test ends
// and returns its address: a datagram from a client goes to peer, and a
// datagram from peer goes back to the client of its call id (its first 4
// bytes, big-endian), as `avedge bench --raw` expects.
func Forwarder(tb testing.TB, peer netip.AddrPort) netip.AddrPort {
	tb.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		clients := make(map[uint32]netip.AddrPort)
		buf := make([]byte, 2048)
		for {
			n, src, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if n < 4 {
				continue
			}
			id, dst := binary.BigEndian.Uint32(buf), peer
			if src == peer {
				dst = clients[id]
			} else if len(clients) < 1<<16 || clients[id].IsValid() {
				clients[id] = src
			}
			if dst.IsValid() {
				_, _ = c.WriteToUDPAddrPort(buf[:n], dst)
			}
		}
	}()
	tb.Cleanup(func() {
		_ = c.Close()
		<-done
	})
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}
