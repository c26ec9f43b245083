package datapath

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// portablePath is the portable data path, which every system has.
var portablePath = path{name: "portable", portable: true}

func TestWorkerPath(t *testing.T) {
	for _, tt := range []struct {
		opts WorkerOptions
		want string
	}{
		{WorkerOptions{}, DefaultPath},
		{WorkerOptions{Portable: true}, PathPortable},
	} {
		w, err := NewWorker(funcHandler{}, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Path(); got != tt.want {
			t.Errorf("Path() with %+v = %q, want %q", tt.opts, got, tt.want)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPortableTOS: the portable path reads no TOS byte (Meta.TOS is 0 even
// with RecvTOS) and sends with the socket's default, without failing.
func TestPortableTOS(t *testing.T) {
	c := portablePath.listen(t, loop4, ListenConfig{RecvTOS: true, RecvDrops: true})
	tos := make(chan uint8, 1)
	h := funcHandler{packetMeta: func(c *Conn, from netip.AddrPort, buf []byte, off, n int, meta Meta) {
		tos <- meta.TOS
		if err := c.WriteToTOS(buf[off:off+n], from, 0xB8); err != nil {
			t.Errorf("WriteToTOS: %v", err)
		}
	}}
	portablePath.runWorker(t, h, WorkerOptions{}, c)
	src := portablePath.listen(t, loop4, ListenConfig{})
	if err := src.WriteToTOS([]byte("marked"), c.LocalAddr(), 0xB8); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-tos:
		if got != 0 {
			t.Fatalf("Meta.TOS = %#x on the portable path, want 0", got)
		}
	case <-time.After(testTimeout):
		t.Fatal("nothing delivered")
	}
}

// TestPortableAddAfterClose: a Conn that a closed worker deregistered joins
// another worker, whose reader then is the only one on the socket.
func TestPortableAddAfterClose(t *testing.T) {
	c := portablePath.listen(t, loop4, ListenConfig{})
	first, err := portablePath.newWorker(funcHandler{}, WorkerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Add(c); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	portablePath.runWorker(t, echoHandler(), WorkerOptions{}, c)
	p := peer(t, loop4)
	for range 3 {
		if _, err := p.WriteToUDPAddrPort([]byte("again"), c.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		if got, _ := readFrom(t, p); string(got) != "again" {
			t.Fatalf("echo %q, want %q", got, "again")
		}
	}
	if err := first.Remove(c); !errors.Is(err, ErrNotAdded) {
		t.Fatalf("Remove from the closed worker = %v, want ErrNotAdded", err)
	}
}

// TestPortableReadersEnd: the reader goroutine of a Conn ends on Remove,
// on Close of its worker (running, stopped by its context, or never run)
// and when the Conn is closed (whose worker then closes without error).
func TestPortableReadersEnd(t *testing.T) {
	ended := func(t *testing.T, what string, r *reader) {
		t.Helper()
		select {
		case <-r.done:
		case <-time.After(testTimeout):
			t.Fatalf("reader still runs after %s", what)
		}
	}
	t.Run("Remove and Close while running", func(t *testing.T) {
		removed := portablePath.listen(t, loop4, ListenConfig{})
		kept := portablePath.listen(t, loop4, ListenConfig{})
		w, stop := portablePath.runWorker(t, funcHandler{}, WorkerOptions{}, removed, kept)
		onWorker(t, w, func() {
			if err := w.Remove(removed); err != nil {
				t.Errorf("Remove: %v", err)
			}
		})
		ended(t, "Remove", removed.reader)
		stop()
		ended(t, "Close of the running worker", kept.reader)
	})
	t.Run("Close after the context ended", func(t *testing.T) {
		c := portablePath.listen(t, loop4, ListenConfig{})
		w, err := portablePath.newWorker(funcHandler{}, WorkerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Add(c); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := w.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		ended(t, "Close of a stopped worker", c.reader)
	})
	t.Run("Conn closed", func(t *testing.T) {
		c, err := ListenUDP(loop4, portablePath.cfg(ListenConfig{}))
		if err != nil {
			t.Fatal(err)
		}
		w, err := portablePath.newWorker(funcHandler{}, WorkerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Add(c); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		ended(t, "Close of the Conn", c.reader)
		if err := w.Close(); err != nil {
			t.Fatalf("Close of the worker of a closed Conn: %v", err)
		}
	})
}
