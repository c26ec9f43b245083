package turntest

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// TCPPeer is a TCP server on 127.0.0.1 standing for a peer of a TCP relay
// (RFC 6062): it hands every connection it accepts to Next, and echoes
// them when made so. The listener and every accepted connection are closed
// when the test ends.
type TCPPeer struct {
	ln       *net.TCPListener
	accepted chan net.Conn
	done     chan struct{}

	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

// NewTCPPeer returns a TCPPeer listening on an ephemeral port of
// 127.0.0.1; when echo is set, it sends every byte it reads on a
// connection back on that connection.
func NewTCPPeer(tb testing.TB, echo bool) *TCPPeer {
	tb.Helper()
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	p := &TCPPeer{ln: ln, accepted: make(chan net.Conn, 16), done: make(chan struct{})}
	tb.Cleanup(p.close)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !p.keep(c) {
				return
			}
			if echo {
				go func() { _, _ = io.Copy(c, c) }()
			}
			select {
			case p.accepted <- c:
			case <-p.done:
				return
			}
		}
	}()
	return p
}

// keep records c to be closed with the peer; it closes c and reports
// false when the peer is already closed.
func (p *TCPPeer) keep(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns = append(p.conns, c)
	return true
}

// close closes the listener and every connection accepted.
func (p *TCPPeer) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	close(p.done)
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

// Addr is the address the peer listens on.
func (p *TCPPeer) Addr() netip.AddrPort {
	return p.ln.Addr().(*net.TCPAddr).AddrPort()
}

// Next returns the next connection the peer accepted; the test fails when
// none comes within Timeout.
func (p *TCPPeer) Next(tb testing.TB) net.Conn {
	tb.Helper()
	select {
	case c := <-p.accepted:
		return c
	case <-time.After(Timeout):
		tb.Fatal("the TCP peer accepted no connection")
		return nil
	}
}

// Echoes writes each of msgs on c and checks that the same bytes come
// back on c, each within Timeout: c is a data connection relayed to an
// echoing peer.
func Echoes(tb testing.TB, c net.Conn, msgs ...string) {
	tb.Helper()
	for _, msg := range msgs {
		crosses(tb, c, c, msg)
	}
}

// RelayBoth checks that msg crosses from a to b and then from b to a,
// each read within Timeout.
func RelayBoth(tb testing.TB, a, b net.Conn, msg string) {
	tb.Helper()
	crosses(tb, a, b, msg)
	crosses(tb, b, a, msg)
}

// crosses writes msg on from and checks that to reads the same bytes
// within Timeout.
func crosses(tb testing.TB, from, to net.Conn, msg string) {
	tb.Helper()
	if _, err := from.Write([]byte(msg)); err != nil {
		tb.Fatal(err)
	}
	buf := make([]byte, len(msg))
	_ = to.SetReadDeadline(time.Now().Add(Timeout))
	if _, err := io.ReadFull(to, buf); err != nil || string(buf) != msg {
		tb.Fatalf("read %q, %v; want %q", buf, err, msg)
	}
}

// WantClosed checks that the other end closes c: it reads until an end of
// file, a closed connection or a reset, and fails the test when Timeout
// passes first.
func WantClosed(tb testing.TB, c net.Conn) {
	tb.Helper()
	_ = c.SetReadDeadline(time.Now().Add(Timeout))
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
		tb.Fatalf("connection not closed by the other end: %v", err)
	}
}
