package datapath

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// testTimeout bounds every wait in the tests.
const testTimeout = 10 * time.Second

var (
	loop4 = netip.MustParseAddrPort("127.0.0.1:0")
	loop6 = netip.MustParseAddrPort("[::1]:0")
)

// funcHandler adapts functions to Handler; nil functions do nothing.
// packetMeta, when set, receives the datagram's Meta as well and replaces
// packet.
type funcHandler struct {
	packet     func(c *Conn, from netip.AddrPort, buf []byte, off, n int)
	packetMeta func(c *Conn, from netip.AddrPort, buf []byte, off, n int, meta Meta)
	tick       func(now time.Time)
	endRound   func()
}

func (h funcHandler) HandlePacket(c *Conn, from netip.AddrPort, buf []byte, off, n int, meta Meta) {
	switch {
	case h.packetMeta != nil:
		h.packetMeta(c, from, buf, off, n, meta)
	case h.packet != nil:
		h.packet(c, from, buf, off, n)
	}
}

func (h funcHandler) Tick(now time.Time) {
	if h.tick != nil {
		h.tick(now)
	}
}

func (h funcHandler) EndRound() {
	if h.endRound != nil {
		h.endRound()
	}
}

// echoHandler sends every datagram back to its sender.
func echoHandler() funcHandler {
	return funcHandler{packet: func(c *Conn, from netip.AddrPort, buf []byte, off, n int) {
		_ = c.WriteTo(buf[off:off+n], from)
	}}
}

// requireIPv6 skips the test when ::1 cannot be bound on this host.
func requireIPv6(t testing.TB) {
	t.Helper()
	c, err := ListenUDP(loop6, ListenConfig{})
	if err != nil {
		t.Skipf("skipping: IPv6 loopback ::1 is not available on this host: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// listen opens a Conn on addr that is closed when the test ends.
func listen(t testing.TB, addr netip.AddrPort, cfg ListenConfig) *Conn {
	t.Helper()
	c, err := ListenUDP(addr, cfg)
	if err != nil {
		t.Fatalf("ListenUDP(%v): %v", addr, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// peer opens an independent net.UDPConn on the loopback of the given family.
func peer(t testing.TB, addr netip.AddrPort) *net.UDPConn {
	t.Helper()
	p, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatalf("peer listen: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	if err := p.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		t.Fatal(err)
	}
	return p
}

// runWorker creates a worker for h with conns added and starts it; see
// startWorker.
func runWorker(t testing.TB, h Handler, opts WorkerOptions, conns ...*Conn) (w *Worker, stop func()) {
	t.Helper()
	w, err := NewWorker(h, opts)
	if err != nil {
		t.Fatalf("NewWorker: %v", err)
	}
	for _, c := range conns {
		if err := w.Add(c); err != nil {
			t.Fatalf("Add: %v", err)
		}
	}
	return w, startWorker(t, w)
}

// startWorker runs w and stops it when the test ends. stop closes the worker
// and waits for Run to return; the tests call it before reading final Stats.
func startWorker(t testing.TB, w *Worker) (stop func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v, want nil after Close", err)
			}
		case <-time.After(testTimeout):
			t.Errorf("Run did not return after Close")
		}
	}
	t.Cleanup(stop)
	return stop
}

// onWorker runs fn on w's goroutine and waits for it.
func onWorker(t testing.TB, w *Worker, fn func()) {
	t.Helper()
	done := make(chan struct{})
	if err := w.Do(func() { fn(); close(done) }); err != nil {
		t.Fatalf("Do: %v", err)
	}
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatal("Do function did not run")
	}
}

// readFrom reads one datagram from p.
func readFrom(t testing.TB, p *net.UDPConn) ([]byte, netip.AddrPort) {
	t.Helper()
	buf := make([]byte, 70000)
	n, from, err := p.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("peer read: %v", err)
	}
	return buf[:n], from
}

// path is a data path the tests run on: the fast path or the portable one.
type path struct {
	name     string
	portable bool
}

// forEachPath runs fn as a subtest for each data path of this system.
func forEachPath(t *testing.T, fn func(t *testing.T, p path)) {
	for _, p := range testPaths {
		t.Run(p.name, func(t *testing.T) { fn(t, p) })
	}
}

// cfg returns cfg for a Conn of path p.
func (p path) cfg(cfg ListenConfig) ListenConfig {
	cfg.Portable = p.portable
	return cfg
}

// opts returns opts for a Worker of path p.
func (p path) opts(opts WorkerOptions) WorkerOptions {
	opts.Portable = p.portable
	return opts
}

// listen is listen for path p.
func (p path) listen(t testing.TB, addr netip.AddrPort, cfg ListenConfig) *Conn {
	t.Helper()
	return listen(t, addr, p.cfg(cfg))
}

// listenUDP is ListenUDP for path p.
func (p path) listenUDP(addr netip.AddrPort, cfg ListenConfig) (*Conn, error) {
	return ListenUDP(addr, p.cfg(cfg))
}

// newWorker is NewWorker for path p.
func (p path) newWorker(h Handler, opts WorkerOptions) (*Worker, error) {
	return NewWorker(h, p.opts(opts))
}

// runWorker is runWorker for path p.
func (p path) runWorker(t testing.TB, h Handler, opts WorkerOptions, conns ...*Conn) (*Worker, func()) {
	t.Helper()
	return runWorker(t, h, p.opts(opts), conns...)
}
