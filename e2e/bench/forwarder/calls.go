//go:build linux

package main

import (
	"sync"

	"golang.org/x/sys/unix"
)

// calls maps call ids to client socket addresses. It is bounded: when full,
// a new call id is not recorded and the replies of that call are dropped (ids
// are never forgotten during a run, which is what a benchmark needs). A
// lookup takes a read lock only; a write happens once per call id.
type calls struct {
	mu  sync.RWMutex
	m   map[uint32]unix.RawSockaddrInet4
	max int
}

// newCalls returns an empty map that remembers at most limit calls.
func newCalls(limit int) *calls {
	return &calls{m: make(map[uint32]unix.RawSockaddrInet4, min(limit, 1<<12)), max: limit}
}

// learn records that id belongs to client; it allocates nothing once id is
// known with the same address.
func (c *calls) learn(id uint32, client *unix.RawSockaddrInet4) {
	c.mu.RLock()
	old, ok := c.m[id]
	c.mu.RUnlock()
	if ok && old == *client {
		return
	}
	c.mu.Lock()
	if _, known := c.m[id]; known || len(c.m) < c.max {
		c.m[id] = *client
	}
	c.mu.Unlock()
}

// client copies the client of id into dst.
func (c *calls) client(id uint32, dst *unix.RawSockaddrInet4) bool {
	c.mu.RLock()
	a, ok := c.m[id]
	c.mu.RUnlock()
	*dst = a
	return ok
}
