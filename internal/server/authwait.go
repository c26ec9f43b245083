package server

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
)

// maxAuthWaits bounds the requests of a server waiting for an external
// credential lookup (auth.Pending); beyond it a request whose username is
// being looked up is refused (401), as the lookup would be.
const maxAuthWaits = 4096

// authWaits are the requests deferred for an external credential lookup:
// each waits on a goroutine of its own (never the worker's) for the
// lookup to end, then runs again on its worker, where the answer is
// cached (worker.retry).
type authWaits struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	n      atomic.Int64
}

// newAuthWaits returns the waits of a server that has not started.
func newAuthWaits() *authWaits {
	ctx, cancel := context.WithCancel(context.Background())
	return &authWaits{ctx: ctx, cancel: cancel}
}

// stop ends the waits (their requests go unanswered) and waits for their
// goroutines.
func (a *authWaits) stop() {
	a.cancel()
	a.wg.Wait()
}

// await defers r until done is closed, then runs it again on w (retry):
// it reports false, and defers nothing, when waitFor does.
func (w *worker) await(r *request, done <-chan struct{}) bool {
	if !w.waitFor(r.l, r.ft.Client, r.m.Raw, done, w.retry) {
		return false
	}
	r.deferred, r.waiting = true, true
	return true
}

// waitFor calls run on w with l, from and a copy of the message raw (the
// worker's buffers serve the next packet) once done is closed, unless
// the server stops or l's stream connection closes first (an allocation
// must not outlive it). It reports false, and waits for nothing, when
// the message is itself such a rerun (the answer should have been
// cached: the cache is full or its entry expired meanwhile) or
// maxAuthWaits requests are waiting.
func (w *worker) waitFor(l *listener, from netip.AddrPort, raw []byte, done <-chan struct{}, run func(*listener, netip.AddrPort, []byte)) bool {
	a := w.env.waits
	if w.retrying {
		return false
	}
	if a.n.Add(1) > maxAuthWaits {
		a.n.Add(-1)
		return false
	}
	raw = slices.Clone(raw)
	var closed <-chan struct{} // a stream connection's end
	if l.conn != nil {
		closed = l.conn.c.Done()
	}
	a.wg.Go(func() {
		defer a.n.Add(-1)
		select {
		case <-done:
		case <-closed:
			return
		case <-a.ctx.Done():
			return
		}
		doOn(w.dp, func() {
			select {
			case <-closed:
				return // closed meanwhile: its allocation has ended
			default:
			}
			w.retrying = true
			run(l, from, raw)
			w.retrying = false
		}, a.ctx.Done())
	})
	return true
}

// retry runs an RFC TURN request that waited for a credential lookup
// again, as it arrived from from on l. The 5-tuple's session is looked up
// afresh: one of [MS-TURN] holds it against RFC requests, as in
// fromMSClient.
func (w *worker) retry(l *listener, from netip.AddrPort, raw []byte) {
	req := w.req
	req.Raw = append(req.Raw[:0], raw...)
	if req.Decode() != nil {
		return // unreachable: it decoded the first time
	}
	s, held := w.lookup(l, from), false
	if s != nil && s.ms != nil {
		s, held = nil, true
	}
	w.handleRequest(l, from, req, s, held)
}

// retryMS runs an [MS-TURN] Allocate that waited for a credential lookup
// again: a datagram takes the whole path of handleClient, a stream
// frame's message that of streamConn.deliver.
func (w *worker) retryMS(l *listener, from netip.AddrPort, raw []byte) {
	if l.conn == nil {
		w.handleClient(l, from, raw, 0, len(raw), 0)
		return
	}
	w.ms.Message(l, from, raw, 0, w.lookupSession(l, from))
}
