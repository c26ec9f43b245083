package server

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// maxAuthWaits bounds the requests of a server waiting for an external
// credential lookup (auth.Pending); beyond it a request whose username is
// being looked up is refused (401), as the lookup would be.
const maxAuthWaits = 4096

// maxAuthWaitsPerSource bounds the waiting requests of one source
// address, so that one client (retransmitting, or sending signed requests
// for made-up usernames) cannot take every place of maxAuthWaits.
const maxAuthWaitsPerSource = 8

// maxAuthWait bounds one wait: a lookup is bounded by the hook's own
// time-out (at most 10 s), so a Done that never comes is a broken hook,
// whose request must not hold its place for ever.
const maxAuthWait = 15 * time.Second

// authWaits are the requests deferred for an external credential lookup:
// each waits on a goroutine of its own (never the worker's) for the
// lookup to end, then runs again on its worker, where the answer is
// cached (worker.retry).
type authWaits struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	n      atomic.Int64

	mu       sync.Mutex
	bySource map[netip.Addr]int // waiting requests per source address
}

// take reserves a place for a request from src, or reports false when the
// server or src has none left.
func (a *authWaits) take(src netip.Addr) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.bySource[src] >= maxAuthWaitsPerSource {
		return false
	}
	if a.n.Add(1) > maxAuthWaits {
		a.n.Add(-1)
		return false
	}
	a.bySource[src]++
	return true
}

// give returns the place of a request from src.
func (a *authWaits) give(src netip.Addr) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n.Add(-1)
	if a.bySource[src]--; a.bySource[src] <= 0 {
		delete(a.bySource, src)
	}
}

// newAuthWaits returns the waits of a server that has not started.
func newAuthWaits() *authWaits {
	ctx, cancel := context.WithCancel(context.Background())
	return &authWaits{ctx: ctx, cancel: cancel, bySource: make(map[netip.Addr]int)}
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
// cached: the cache is full or its entry expired meanwhile), or
// maxAuthWaits requests, or maxAuthWaitsPerSource of from's address, are
// waiting. A wait longer than maxAuthWait ends unanswered.
func (w *worker) waitFor(l *listener, from netip.AddrPort, raw []byte, done <-chan struct{}, run func(*listener, netip.AddrPort, []byte)) bool {
	a := w.env.waits
	if w.retrying {
		return false
	}
	src := from.Addr()
	if !a.take(src) {
		return false
	}
	raw = slices.Clone(raw)
	var closed <-chan struct{} // a stream connection's end
	if l.conn != nil {
		closed = l.conn.c.Done()
	}
	a.wg.Go(func() {
		defer a.give(src)
		timeout := time.NewTimer(maxAuthWait)
		defer timeout.Stop()
		select {
		case <-done:
		case <-closed:
			return
		case <-a.ctx.Done():
			return
		case <-timeout.C:
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
