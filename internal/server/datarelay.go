package server

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/avedge/avedge/internal/policy"
)

// errClosedWhileShaping ends a shaped copy whose connection closed while a
// write waited for its bytes to conform.
var errClosedWhileShaping = errors.New("server: connection closed while shaping")

// relayData serves a client data connection (RFC 6062 §5.4): "Data
// received on it MUST be sent as-is to the associated peer data
// connection. Data received on the associated peer data connection MUST be
// sent as-is on this client data connection." It is the stream.RawFunc of
// the connection after its ConnectionBind: nc is the client connection,
// first what the client sent after its ConnectionBind, done closed when
// the connection is closed. It runs on the reader goroutine, with one
// more goroutine for the other direction; each direction copies through a
// fixed buffer with blocking writes, so a side that does not read stops the
// other through the TCP windows and the relay holds at most one buffer per
// direction. When either side ends, both connections close. Bandwidth caps
// (Options.BandwidthPerAllocation, BandwidthPerUser) shape each direction:
// a write waits until its bytes conform (see shaper), since a stream cannot
// drop bytes as a datagram relay does.
func (c *streamConn) relayData(nc net.Conn, first []byte, done <-chan struct{}) {
	p, pn := c.bound, c.peerNC
	env := c.wl.w.env
	tcp := env.tcp
	defer p.release()
	tcp.ctr.dataOpen.Add(1)
	defer tcp.ctr.dataOpen.Add(-1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n, _ := io.CopyBuffer(shaped(env, nc, p, dirToClient, done), onlyReader{pn}, make([]byte, tcpCopyBuffer))
		tcp.ctr.toClientBytes.Add(uint64(n))
		p.release()
	}()
	toPeer := shaped(env, pn, p, dirToPeer, done)
	if len(first) > 0 {
		n, err := toPeer.Write(first)
		tcp.ctr.toPeerBytes.Add(uint64(n))
		if err != nil {
			p.release()
			wg.Wait()
			return
		}
	}
	n, _ := io.CopyBuffer(toPeer, onlyReader{nc}, make([]byte, tcpCopyBuffer))
	tcp.ctr.toPeerBytes.Add(uint64(n))
	p.release()
	wg.Wait()
}

// onlyReader and onlyWriter hide ReadFrom and WriteTo, so that io.CopyBuffer
// copies through its bounded buffer.
type onlyReader struct{ io.Reader }

type onlyWriter struct{ io.Writer }

// shaped returns w for the bytes p relays in direction dir: w itself
// (without ReadFrom) when no bandwidth cap is set, else a shaper drawing
// from the TCP allocation's and its user's buckets until done is closed.
func shaped(env *shared, w io.Writer, p *peerConn, dir int, done <-chan struct{}) io.Writer {
	bw := &env.bw
	if !bw.on {
		return onlyWriter{w}
	}
	sh := &shaper{w: w, bw: bw, alloc: &p.relay.bw[dir], done: done}
	if u := p.relay.s.user; u != nil {
		sh.user = &u.buckets[dir]
	}
	return sh
}

// shaper delays writes so that the bytes through it conform to the
// allocation's and the user's caps.
type shaper struct {
	w     io.Writer
	bw    *bandwidth
	alloc *policy.SharedBucket
	user  *policy.SharedBucket // nil: no per-user cap
	done  <-chan struct{}      // closed when the client connection ends
}

// Write waits for b's bytes to conform, then writes them. A connection
// that ends meanwhile returns errClosedWhileShaping.
func (s *shaper) Write(b []byte) (int, error) {
	now := int64(time.Since(s.bw.epoch))
	wait := s.alloc.Reserve(&s.bw.perAlloc, len(b), now)
	if s.user != nil {
		wait = max(wait, s.user.Reserve(&s.bw.perUser, len(b), now))
	}
	if wait > 0 {
		t := time.NewTimer(time.Duration(wait))
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
			return 0, errClosedWhileShaping
		}
	}
	return s.w.Write(b)
}
