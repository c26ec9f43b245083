//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrClosed is returned by Serve after Close.
var ErrClosed = errors.New("forwarder: closed")

const (
	batchSize = 64
	maxPacket = 2048
	sockBuf   = 4 << 20
)

// Forwarder relays datagrams between clients and one peer.
type Forwarder struct {
	workers []*worker
	addr    netip.AddrPort
}

// worker owns one SO_REUSEPORT client socket and one upstream socket towards
// the peer; the peer's replies to that upstream socket go back through the
// client socket, so a call stays on one worker in both directions and the
// call map is per worker (shared by its two goroutines, not across workers).
type worker struct {
	client, upstream *net.UDPConn
	peer             unix.RawSockaddrInet4
	calls            *calls
}

// Listen opens n workers' sockets on listen (IPv4), all sharing its port.
func Listen(ctx context.Context, listen string, peer *net.UDPAddr, n, maxCalls int) (*Forwarder, error) {
	peerAP := peer.AddrPort()
	if !peerAP.Addr().Unmap().Is4() {
		return nil, fmt.Errorf("%w: peer %s is not IPv4", ErrUsage, peer)
	}
	lc := net.ListenConfig{Control: reusePort}
	f := &Forwarder{}
	for i := range n {
		c, err := lc.ListenPacket(ctx, "udp4", listen)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("forwarder: listen: %w", err)
		}
		uc := c.(*net.UDPConn)
		if i == 0 {
			f.addr = uc.LocalAddr().(*net.UDPAddr).AddrPort()
			listen = f.addr.String()
		}
		u, err := lc.ListenPacket(ctx, "udp4", netip.AddrPortFrom(f.addr.Addr(), 0).String())
		if err != nil {
			uc.Close()
			f.Close()
			return nil, fmt.Errorf("forwarder: upstream socket: %w", err)
		}
		f.workers = append(f.workers, &worker{client: uc, upstream: u.(*net.UDPConn), peer: fromAddrPort(peerAP), calls: newCalls(maxCalls)})
	}
	return f, nil
}

// reusePort sets SO_REUSEPORT and large socket buffers.
func reusePort(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		if serr == nil {
			// best effort: the kernel caps these at net.core.[rw]mem_max
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, sockBuf)
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, sockBuf)
		}
	})
	if err != nil {
		return fmt.Errorf("forwarder: control: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("forwarder: SO_REUSEPORT: %w", serr)
	}
	return nil
}

// Addr returns the address clients send to.
func (f *Forwarder) Addr() netip.AddrPort { return f.addr }

// Serve forwards until Close; it returns the first error of a socket that
// is not ErrClosed.
func (f *Forwarder) Serve() error {
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(f.workers))
	for _, w := range f.workers {
		wg.Add(2)
		go func() { defer wg.Done(); errs <- w.pump(w.client, w.upstream, w.toPeer) }()
		go func() { defer wg.Done(); errs <- w.pump(w.upstream, w.client, w.toClient) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
	}
	return ErrClosed
}

// Close closes every socket; Serve then returns.
func (f *Forwarder) Close() {
	for _, w := range f.workers {
		w.client.Close()
		w.upstream.Close()
	}
}

// pump reads batches from in, lets route address them (it returns how many
// of the batch's first slots to send) and writes them to out.
func (w *worker) pump(in, out *net.UDPConn, route func(*batch, int) int) error {
	rin, err := in.SyscallConn()
	if err != nil {
		return fmt.Errorf("forwarder: %w", err)
	}
	rout, err := out.SyscallConn()
	if err != nil {
		return fmt.Errorf("forwarder: %w", err)
	}
	b := newBatch(batchSize, maxPacket)
	var n, sent, todo int
	var errno unix.Errno
	read := func(fd uintptr) bool {
		n, errno = b.recvmmsg(fd)
		return errno != unix.EAGAIN
	}
	write := func(fd uintptr) bool {
		for sent < todo {
			var k int
			k, errno = b.sendmmsg(fd, sent, todo)
			if errno == unix.EAGAIN {
				return false
			}
			if errno != 0 {
				sent++ // skip a datagram the kernel refuses (e.g. ECONNREFUSED)
				continue
			}
			sent += k
		}
		return true
	}
	for {
		if err := rin.Read(read); err != nil {
			return fmt.Errorf("forwarder: read: %w", err)
		}
		if errno != 0 {
			continue
		}
		todo, sent = route(b, n), 0
		if todo > 0 {
			if err := rout.Write(write); err != nil {
				return fmt.Errorf("forwarder: write: %w", err)
			}
		}
		for i := range todo {
			b.resetOut(i)
		}
	}
}

// toPeer addresses client datagrams to the peer and learns their call ids.
// It packs the datagrams it keeps at the front of the batch.
func (w *worker) toPeer(b *batch, n int) int {
	out := 0
	for i := range n {
		pkt := b.bufs[i][:b.lens[i]]
		if len(pkt) < 4 {
			continue
		}
		w.calls.learn(binary.BigEndian.Uint32(pkt), &b.names[i])
		b.setOut(out, pkt, &w.peer)
		out++
	}
	return out
}

// toClient addresses the peer's datagrams to the clients of their call ids.
func (w *worker) toClient(b *batch, n int) int {
	out := 0
	for i := range n {
		pkt := b.bufs[i][:b.lens[i]]
		if len(pkt) < 4 || b.names[i].Addr != w.peer.Addr || b.names[i].Port != w.peer.Port {
			continue
		}
		// names[out] is free: slot out's own datagram was read before slot i >= out.
		if !w.calls.client(binary.BigEndian.Uint32(pkt), &b.names[out]) {
			continue
		}
		b.setOut(out, pkt, &b.names[out])
		out++
	}
	return out
}
