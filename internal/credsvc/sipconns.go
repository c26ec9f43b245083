package credsvc

import (
	"context"
	"net"
	"sync"
)

// connSet tracks the connections the Server serves itself: those in their
// TLS handshake or first bytes, and SIP connections, so that Shutdown can
// close them. A connection is idle while it waits for a request: Shutdown
// closes it at once, and lets the others finish their request first.
type connSet struct {
	mu      sync.Mutex
	idle    map[net.Conn]bool
	closing bool
	wg      sync.WaitGroup // one per goroutine serving a connection
}

// add tracks c, idle, for a goroutine about to serve it; it reports false
// once Shutdown began, and the caller closes c.
func (s *connSet) add(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	if s.idle == nil {
		s.idle = make(map[net.Conn]bool)
	}
	s.idle[c] = true
	s.wg.Add(1)
	return true
}

// setIdle marks c idle or busy; it reports false when c is to become idle
// after Shutdown began, and the caller closes c.
func (s *connSet) setIdle(c net.Conn, idle bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if idle && s.closing {
		return false
	}
	s.idle[c] = idle
	return true
}

// remove stops tracking c: it was closed, or handed to the http.Server.
func (s *connSet) remove(c net.Conn) {
	s.mu.Lock()
	delete(s.idle, c)
	s.mu.Unlock()
}

// done marks the end of a goroutine that add counted.
func (s *connSet) done() { s.wg.Done() }

// shutdown refuses further connections and closes the idle ones.
func (s *connSet) shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	for c, idle := range s.idle {
		if idle {
			_ = c.Close()
		}
	}
}

// wait waits until every goroutine serving a connection has returned. If
// ctx ends first, it closes every connection, waits for the goroutines
// (each then returns at once) and returns ctx's error.
func (s *connSet) wait(ctx context.Context) error {
	finished := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for c := range s.idle {
		_ = c.Close()
	}
	s.mu.Unlock()
	<-finished
	return ctx.Err()
}
