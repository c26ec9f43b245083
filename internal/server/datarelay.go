package server

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server/tcprelay"
)

// errClosedWhileShaping ends a shaped copy whose connection closed while a
// write waited for its bytes to conform.
var errClosedWhileShaping = errors.New("server: connection closed while shaping")

// relayData serves a client data connection (RFC 6062 §5.4) joined with
// its peer data connection by a ConnectionBind: it is the stream.RawFunc
// of the connection, with nc the client connection, first what the client
// sent after its ConnectionBind and done closed when the connection is
// closed. tcprelay.Splice copies both ways with back-pressure; bandwidth
// caps (Options.BandwidthPerAllocation, BandwidthPerUser) shape each
// direction: a write waits until its bytes conform (see shaper), since a
// stream cannot drop bytes as a datagram relay does. When either side
// ends, both connections close and the owner forgets the peer connection.
func (c *streamConn) relayData(nc net.Conn, first []byte, done <-chan struct{}) {
	p, pn := c.bound, c.peerNC
	env := c.wl.w.env
	defer p.release()
	tcprelay.Splice(&env.tcp.ctr, nc, pn, first, shaped(env, pn, p, dirToPeer, done), shaped(env, nc, p, dirToClient, done), p.release)
}

// shaped returns w for the bytes p relays in direction dir: w itself
// when no bandwidth cap is set, else a shaper drawing
// from the TCP allocation's and its user's buckets until done is closed.
func shaped(env *shared, w io.Writer, p *peerConn, dir int, done <-chan struct{}) io.Writer {
	bw := &env.bw
	if !bw.on {
		return w
	}
	sh := &shaper{w: w, bw: bw, caps: &bw.caps[ownerTenant(p.relay.s.owner)], alloc: &p.relay.bw[dir], done: done}
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
	caps  *bwCaps // the allocation's tenant's
	alloc *policy.SharedBucket
	user  *policy.SharedBucket // nil: no per-user cap
	done  <-chan struct{}      // closed when the client connection ends
}

// Write waits for b's bytes to conform, then writes them. A connection
// that ends meanwhile returns errClosedWhileShaping.
func (s *shaper) Write(b []byte) (int, error) {
	now := int64(time.Since(s.bw.epoch))
	wait := s.alloc.Reserve(&s.caps.perAlloc, len(b), now)
	if s.user != nil {
		wait = max(wait, s.user.Reserve(&s.caps.perUser, len(b), now))
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
