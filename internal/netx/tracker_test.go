package netx

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeConn records that it was closed and removes itself, as its server
// would on seeing it fail.
type fakeConn struct {
	t      *Tracker
	mu     sync.Mutex
	closed bool
}

func (c *fakeConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.t.Remove(c)
	return nil
}

func (c *fakeConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// add tracks a new fakeConn on tr.
func add(t *testing.T, tr *Tracker) *fakeConn {
	t.Helper()
	c := &fakeConn{t: tr}
	if !tr.Add(c) {
		t.Fatal("Add refused before shutdown")
	}
	return c
}

// TestTrackerShutdown: Shutdown closes the idle connections and leaves
// the busy one, which Wait waits for; new connections and idling are
// refused from then on.
func TestTrackerShutdown(t *testing.T) {
	var tr Tracker
	idle := add(t, &tr)
	busy := add(t, &tr)
	tr.Busy(busy)
	back := add(t, &tr)
	tr.Busy(back)
	if !tr.Idle(back) {
		t.Fatal("Idle refused before shutdown")
	}
	tr.Shutdown()
	if !idle.isClosed() || !back.isClosed() || busy.isClosed() {
		t.Fatalf("closed: idle %v, back to idle %v, busy %v", idle.isClosed(), back.isClosed(), busy.isClosed())
	}
	if tr.Add(&fakeConn{t: &tr}) {
		t.Error("Add accepted after Shutdown")
	}
	if tr.Idle(busy) {
		t.Error("Idle accepted after Shutdown")
	}
	done := make(chan error, 1)
	go func() { done <- tr.Wait(context.Background()) }()
	select {
	case err := <-done:
		t.Fatalf("Wait returned %v with a busy connection", err)
	default:
	}
	tr.Remove(busy)
	tr.Remove(busy)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("Wait did not return once every connection was removed")
	}
}

// TestTrackerWaitTimeout: when the context ends first, Wait closes every
// connection, waits for their removal and returns the context's error.
func TestTrackerWaitTimeout(t *testing.T) {
	var tr Tracker
	busy := add(t, &tr)
	tr.Busy(busy)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tr.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait: %v", err)
	}
	if !busy.isClosed() {
		t.Error("busy connection left open")
	}
}

// TestTrackerClose: Close closes busy connections too; Wait on an empty
// Tracker returns at once.
func TestTrackerClose(t *testing.T) {
	var tr Tracker
	busy := add(t, &tr)
	tr.Busy(busy)
	tr.Close()
	if !busy.isClosed() {
		t.Error("Close left a busy connection open")
	}
	if err := tr.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	var empty Tracker
	if err := empty.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}
