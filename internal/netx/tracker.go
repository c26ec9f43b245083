package netx

import (
	"context"
	"io"
	"sync"
)

// Tracker keeps the live connections of a server so that it can close
// them on shutdown and wait for them. A connection is idle while it waits
// for a request (or is not yet serving one): Shutdown closes it at once,
// and lets the others finish first. Connections are compared as map keys:
// track pointers. The zero Tracker is ready to use; it is safe for
// concurrent use.
type Tracker struct {
	mu      sync.Mutex
	conns   map[io.Closer]bool // true: idle
	closing bool
	drained chan struct{} // closed when closing and conns is empty
}

// Add tracks c, idle; it reports false once Shutdown, Close or Wait
// began, and the caller closes c. Every connection added is removed with
// Remove when its server is done with it.
func (t *Tracker) Add(c io.Closer) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return false
	}
	if t.conns == nil {
		t.conns = make(map[io.Closer]bool)
	}
	t.conns[c] = true
	return true
}

// Busy marks c busy serving a request: Shutdown leaves it open.
func (t *Tracker) Busy(c io.Closer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.conns[c]; ok {
		t.conns[c] = false
	}
}

// Idle marks c idle; it reports false once Shutdown, Close or Wait
// began, and the caller closes c.
func (t *Tracker) Idle(c io.Closer) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return false
	}
	if _, ok := t.conns[c]; ok {
		t.conns[c] = true
	}
	return true
}

// Remove stops tracking c: it was closed, or handed to another server
// that tracks it. Removing a connection not tracked does nothing.
func (t *Tracker) Remove(c io.Closer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.conns[c]; !ok {
		return
	}
	delete(t.conns, c)
	if t.closing && len(t.conns) == 0 {
		close(t.drained)
	}
}

// Shutdown refuses further connections and closes the idle ones.
func (t *Tracker) Shutdown() { t.closeAll(false) }

// Close refuses further connections and closes every one.
func (t *Tracker) Close() { t.closeAll(true) }

// closeAll begins closing, once, and closes the idle connections, or all
// of them, outside the lock: a Close may call Remove.
func (t *Tracker) closeAll(all bool) {
	t.mu.Lock()
	t.beginClosing()
	var closing []io.Closer
	for c, idle := range t.conns {
		if idle || all {
			closing = append(closing, c)
		}
	}
	t.mu.Unlock()
	for _, c := range closing {
		_ = c.Close()
	}
}

// beginClosing refuses further connections; t.mu is held.
func (t *Tracker) beginClosing() {
	if t.closing {
		return
	}
	t.closing = true
	t.drained = make(chan struct{})
	if len(t.conns) == 0 {
		close(t.drained)
	}
}

// Wait refuses further connections and waits until every connection is
// removed. If ctx ends first, it closes them all, waits until they are
// removed (their servers see them fail) and returns ctx's error.
func (t *Tracker) Wait(ctx context.Context) error {
	t.mu.Lock()
	t.beginClosing()
	drained := t.drained
	t.mu.Unlock()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
	}
	t.Close()
	<-drained
	return ctx.Err()
}
