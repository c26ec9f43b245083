package server

import (
	"context"
	"net"
	"net/netip"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/server/tcprelay"
	"github.com/avedge/avedge/internal/stunproto"
)

// connect implements RFC 6062 §5.2 "Receiving a Connect Request". The
// outbound connection is made on a goroutine of its own, so the answer
// (success with CONNECTION-ID, or 447) comes later, from connected.
func (w *worker) connect(r *request) {
	// "If the request is received on a TCP connection for which no
	// allocation exists, the server MUST return a 437".
	s := w.session(r)
	if s == nil {
		return
	}
	t := s.tcp
	if t == nil {
		// A UDP allocation has no peer connections.
		w.fail(r, stun.CodeBadRequest)
		return
	}
	// "If the request does not contain an XOR-PEER-ADDRESS attribute, or
	// if such attribute is invalid, the server MUST return a 400".
	var xpa stunproto.XORPeerAddress
	if xpa.GetFrom(r.m) != nil {
		w.fail(r, stun.CodeBadRequest)
		return
	}
	peer := netip.AddrPortFrom(xpa.Addr.Addr().Unmap(), xpa.Addr.Port())
	// "If the new connection is forbidden by local policy, the server
	// MUST reject the request with a 403" (and 443 for another family).
	if !w.checkPeer(r, s, peer, true) {
		return
	}
	// "If the server is currently processing a Connect request for this
	// allocation with the same XOR-PEER-ADDRESS, it MUST return a 446 [...]
	// If the server has already successfully processed a Connect request
	// for this allocation with the same XOR-PEER-ADDRESS, and the resulting
	// client and peer data connections are either pending or active, it
	// MUST return a 446".
	if t.conns[peer] != nil {
		w.fail(r, stun.CodeConnAlreadyExists)
		return
	}
	if len(t.conns) >= w.env.tcp.perAlloc {
		w.env.tcp.ctr.RefusedLimit.Add(1)
		w.refuse(r, stats.RefusedTCPConnectionsLimit)
		return
	}
	p := newPeerConn(t, peer)
	t.conns[peer] = p
	later := deferredAnswer{l: r.l, ft: r.ft, method: r.m.Type.Method, id: r.m.TransactionID, auth: *r.auth}
	r.deferred = true
	tcp := w.env.tcp
	tcp.wg.Add(1)
	go func() {
		defer tcp.wg.Done()
		// "Otherwise, the server MUST initiate an outgoing TCP
		// connection. The local endpoint is the relayed transport address
		// associated with the allocation."
		ctx, cancel := context.WithTimeout(tcp.ctx, tcprelay.ConnectTimeout)
		nc, err := datapath.DialTCP(ctx, t.addr, peer)
		cancel()
		if !doOn(w.dp, func() { w.connected(p, nc, err, later) }, tcp.ctx.Done()) && nc != nil {
			_ = nc.Close()
		}
	}()
}

// deferredAnswer is what a response sent after the request handler
// returned needs of the request.
type deferredAnswer struct {
	l      *listener
	ft     allocation.FiveTuple
	method stun.Method
	id     [stun.TransactionIDSize]byte
	auth   auth.Result
}

// connected finishes a Connect on the owner: "If the connection attempt
// fails or times out, the server MUST return a 447 [...] If the connection
// is successful, it is now called a peer data connection. [...] The server
// MUST include the CONNECTION-ID attribute in the Connect success
// response" (RFC 6062 §5.2).
func (w *worker) connected(p *peerConn, nc net.Conn, err error, later deferredAnswer) {
	t := p.relay
	m := &stun.Message{Type: stun.NewType(later.method, stun.ClassRequest), TransactionID: later.id}
	r := &request{w: w, ft: later.ft, l: later.l, m: m, resp: w.resp, auth: &later.auth, now: w.env.clock.Now()}
	ctr := &w.env.tcp.ctr
	switch {
	case t.closed:
		// The allocation ended meanwhile (Refresh 0, expiry); if its
		// control connection is still open, the client gets its answer.
		if nc != nil {
			_ = nc.Close()
		}
		w.fail(r, stun.CodeConnTimeoutOrFailure)
	case err != nil:
		t.forget(p)
		ctr.ConnectFailed.Add(1)
		w.env.log.Debug("connect failed", "client", r.ft.Client, "peer", p.Peer, "err", err)
		w.fail(r, stun.CodeConnTimeoutOrFailure)
	case !p.SetConn(nc):
		_ = nc.Close()
		t.forget(p)
		w.fail(r, stun.CodeConnTimeoutOrFailure)
	default:
		if err := w.env.tcp.pending.Add(p.PeerConn, r.now); err != nil {
			_ = nc.Close()
			t.forget(p)
			ctr.RefusedLimit.Add(1)
			w.refuse(r, stats.RefusedTCPConnectionsLimit)
			break
		}
		ctr.Connects.Add(1)
		w.succeed(r, p.ID)
	}
	w.reply(r.l, r.ft.Client, r.resp.Raw)
}
