package credsvc

import (
	"log/slog"
	"net"
	"sync"
)

// limitListener accepts at most cap(sem) connections at a time; further
// connections wait in the kernel's backlog until one closes. It also
// holds at most perIP connections of one source IP: further connections
// from that IP are closed as soon as they are accepted, so that one peer
// cannot take every slot.
type limitListener struct {
	net.Listener
	sem     chan struct{}
	done    chan struct{}
	once    sync.Once
	perIP   int
	refusal *refusalLog

	mu   sync.Mutex
	byIP map[string]int
}

// newLimitListener wraps l to hold at most n open connections, at most
// perIP of them from one IP; refusal logs the connections closed for
// exceeding perIP.
func newLimitListener(l net.Listener, n, perIP int, refusal *refusalLog) *limitListener {
	return &limitListener{Listener: l, sem: make(chan struct{}, n), done: make(chan struct{}),
		perIP: perIP, refusal: refusal, byIP: make(map[string]int)}
}

// Accept waits for a free slot, then for a connection from an IP below
// its limit.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		select {
		case l.sem <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.sem
			return nil, err
		}
		peer := c.RemoteAddr().String()
		ip := peerIP(peer)
		l.mu.Lock()
		ok := l.byIP[ip] < l.perIP
		if ok {
			l.byIP[ip]++
		}
		l.mu.Unlock()
		if ok {
			return &limitConn{Conn: c, release: func() { l.release(ip) }}, nil
		}
		_ = c.Close()
		<-l.sem
		l.refusal.warn(peer, "credential service: connection refused", slog.String("peer", peer),
			slog.String("reason", "too many connections from this IP"))
	}
}

// release frees a slot of ip.
func (l *limitListener) release(ip string) {
	l.mu.Lock()
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
	}
	l.mu.Unlock()
	<-l.sem
}

// Close closes the listener and wakes a waiting Accept.
func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn frees its listener slot when closed, once.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and frees its slot.
func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
