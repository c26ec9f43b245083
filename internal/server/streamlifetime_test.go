package server

import (
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
	"github.com/avedge/avedge/internal/turntest"
)

// TestStreamLifetime: a connection without an allocation that sends a
// ChannelData header for a channel that does not exist every 100 ms
// (dropped, never answered), twice as often as the idle timeout, is
// closed at its lifetime from accept and counted.
func TestStreamLifetime(t *testing.T) {
	const life = 400 * time.Millisecond
	se := newStreamEdge(t, func(o *Options) {
		o.Stream.UnheldLifetime = life
		o.Stream.IdleTimeout = 200 * time.Millisecond
	})
	began := time.Now()
	c := se.dial(false)
	at := turntest.KeepWriting(t, c, []byte{0x40, 0x00, 0x00, 0x00}, 100*time.Millisecond)
	if lived := at.Sub(began); lived < life {
		t.Fatalf("closed after %v, before its lifetime %v", lived, life)
	}
	if st := se.srv.Stats().Stream; st.LifetimeExpired != 1 || st.IdleTimeouts != 0 {
		t.Fatalf("stream stats %+v, want 1 lifetime expired, no idle timeout", st)
	}
}

// TestStreamLifetimeHeld: a connection whose allocation outlives the
// lifetime is served on, silent or not; after a Refresh 0 the lifetime
// runs again from then, and the connection is closed at its end.
func TestStreamLifetimeHeld(t *testing.T) {
	const life = 400 * time.Millisecond
	se := newStreamEdge(t, func(o *Options) {
		o.Stream.UnheldLifetime = life
		o.Stream.IdleTimeout = 5 * time.Second
	})
	u, p := se.credential("alice", time.Hour)
	c := se.newStreamClient(u, p)
	c.allocateUDP()
	time.Sleep(2 * life) // past the lifetime, silent
	m := bindingRequest(t)
	if _, err := c.conn.Write(m.Raw); err != nil {
		t.Fatal(err)
	}
	wantBindingResponse(t, c.conn, m)
	freed := time.Now()
	wantCode(t, c.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
	select {
	case at := <-turntest.ClosedAt(c.conn):
		if at.IsZero() {
			t.Fatal("not closed after the allocation ended")
		}
		if lived := at.Sub(freed); lived < life {
			t.Fatalf("closed %v after the Refresh 0, before a lifetime (%v)", lived, life)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("not closed within 3s after the allocation ended")
	}
	if st := se.srv.Stats().Stream; st.LifetimeExpired != 1 {
		t.Fatalf("stream stats %+v, want 1 lifetime expired", st)
	}
}
