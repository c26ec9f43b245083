package server

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/avedge/avedge/internal/stunproto"
)

var (
	// errNoPendingConn: a ConnectionBind names no pending peer connection
	// (unknown, already bound or expired).
	errNoPendingConn = errors.New("server: no pending peer connection with this id")
	// errOtherCredentials: a ConnectionBind uses other credentials than the
	// allocation of the peer connection.
	errOtherCredentials = errors.New("server: connection bind with other credentials")
	// errPendingFull: the registry of pending peer connections is full.
	errPendingFull = errors.New("server: too many pending peer connections")
)

// pendingConns holds the peer data connections that wait for a
// ConnectionBind, by CONNECTION-ID, with the time each expires (RFC 6062
// §5.2, §5.3). It is safe for concurrent use: any worker may receive the
// ConnectionBind. It only hands peer connections over; their allocation's
// state stays with the owning worker.
type pendingConns struct {
	mu   sync.Mutex
	max  int
	byID map[stunproto.ConnectionID]pendingConn
}

type pendingConn struct {
	p       *peerConn
	expires time.Time
}

func newPendingConns(limit int) pendingConns {
	return pendingConns{max: limit, byID: make(map[stunproto.ConnectionID]pendingConn)}
}

// add registers p until now plus the bind timeout under a new random
// CONNECTION-ID ("MUST uniquely identify the peer data connection", RFC
// 6062 §5.2), which it stores in p.id.
func (pc *pendingConns) add(p *peerConn, now time.Time) error {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if len(pc.byID) >= pc.max {
		return errPendingFull
	}
	for {
		// Random, so that an id does not tell how busy the server is
		// nor lets anyone guess the next one.
		id := stunproto.ConnectionID(rand.Uint32())
		if _, taken := pc.byID[id]; taken || id == 0 {
			continue
		}
		p.id = id
		pc.byID[id] = pendingConn{p: p, expires: now.Add(tcpBindTimeout)}
		return nil
	}
}

// claim takes the unexpired pending connection id for a ConnectionBind by
// username. With other credentials the connection stays pending.
func (pc *pendingConns) claim(id stunproto.ConnectionID, username string, now time.Time) (*peerConn, error) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	e, ok := pc.byID[id]
	if !ok || !now.Before(e.expires) {
		return nil, errNoPendingConn
	}
	if e.p.username != username {
		return nil, errOtherCredentials
	}
	delete(pc.byID, id)
	return e.p, nil
}

// control returns the client address of the control connection of the
// allocation whose unexpired pending connection is id.
func (pc *pendingConns) control(id stunproto.ConnectionID, now time.Time) (netip.AddrPort, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	e, ok := pc.byID[id]
	if !ok || !now.Before(e.expires) {
		return netip.AddrPort{}, false
	}
	return e.p.control, true
}

// remove forgets p if it is still pending.
func (pc *pendingConns) remove(p *peerConn) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if e, ok := pc.byID[p.id]; ok && e.p == p {
		delete(pc.byID, p.id)
	}
}

// expire removes the pending connections of owner that expired at now and
// appends them to out.
func (pc *pendingConns) expire(now time.Time, owner *worker, out []*peerConn) []*peerConn {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for id, e := range pc.byID {
		if e.p.relay.owner == owner && !now.Before(e.expires) {
			delete(pc.byID, id)
			out = append(out, e.p)
		}
	}
	return out
}
