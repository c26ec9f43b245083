package credsvc

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/avedge/avedge/internal/clock"
)

const (
	// refusalLogWindow is how often refusals of one peer IP are logged:
	// the first refusal of a window is, the others are counted and the
	// count is reported with the next line logged for that IP.
	refusalLogWindow = time.Minute
	// maxRefusalPeers bounds the peer IPs the refusal log tracks; when it
	// is full, refusals of further IPs share one more entry.
	maxRefusalPeers = 4096
)

// refusalLog writes refusal warnings at most once per peer IP per
// refusalLogWindow, so that a flood of refused requests or handshakes
// cannot flood the log. It is safe for concurrent use.
type refusalLog struct {
	log *slog.Logger
	clk clock.Clock

	mu    sync.Mutex
	peers map[string]*refusalPeer
}

// refusalPeer is one IP's window: when its last line was logged and how
// many refusals were not logged since.
type refusalPeer struct {
	logged     time.Time
	suppressed int64
}

// overflowPeer is the entry shared by IPs beyond maxRefusalPeers.
const overflowPeer = "(other peers)"

// newRefusalLog returns a refusalLog writing to log.
func newRefusalLog(log *slog.Logger, clk clock.Clock) *refusalLog {
	return &refusalLog{log: log, clk: clk, peers: make(map[string]*refusalPeer)}
}

// warn logs msg with attrs for a refusal of peer (host:port), unless that
// IP already had a line logged within the window, in which case the
// refusal is only counted. A logged line carries "suppressed", the number
// of refusals of the IP not logged since its previous line.
func (l *refusalLog) warn(peer, msg string, attrs ...slog.Attr) {
	key := peerIP(peer)
	now := l.clk.Now()
	l.mu.Lock()
	p, ok := l.peers[key]
	if !ok {
		if len(l.peers) >= maxRefusalPeers {
			l.purge(now)
		}
		if len(l.peers) >= maxRefusalPeers {
			key = overflowPeer
			p = l.peers[key]
		}
		if p == nil {
			p = &refusalPeer{logged: now.Add(-refusalLogWindow)}
			l.peers[key] = p
		}
	}
	if now.Sub(p.logged) < refusalLogWindow {
		p.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := p.suppressed
	p.logged, p.suppressed = now, 0
	l.mu.Unlock()
	attrs = append(attrs, slog.Int64("suppressed", suppressed))
	l.log.LogAttrs(context.Background(), slog.LevelWarn, msg, attrs...)
}

// purge drops the IPs whose window has passed; their suppressed counts
// are logged as one summary line.
func (l *refusalLog) purge(now time.Time) {
	var dropped int64
	for k, p := range l.peers {
		if k != overflowPeer && now.Sub(p.logged) >= refusalLogWindow {
			dropped += p.suppressed
			delete(l.peers, k)
		}
	}
	if dropped > 0 {
		l.log.Warn("credential service: refusals not logged", slog.Int64("suppressed", dropped))
	}
}

// peerIP returns the IP of a host:port peer address, or the address as
// given when it has no port.
func peerIP(peer string) string {
	if ap, err := netip.ParseAddrPort(peer); err == nil {
		return ap.Addr().Unmap().String()
	}
	return peer
}
