package netx

import (
	"errors"
	"net"
	"testing"
	"time"
)

// ioTimeout bounds every wait of these tests.
const ioTimeout = 5 * time.Second

// listen returns a loopback listener limited by lim, reporting refusals
// on the returned channel.
func listen(t *testing.T, lim *Limiter) (*Listener, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := make(chan error, 8)
	l := NewListener(ln, lim, func(remote net.Addr, err error) {
		if sourceOf(remote).String() != "127.0.0.1" {
			err = errors.Join(err, errors.New("remote "+remote.String()))
		}
		refused <- err
	})
	t.Cleanup(func() { _ = l.Close() })
	return l, refused
}

// dial connects to l.
func dial(t *testing.T, l net.Listener) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", l.Addr().String(), ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// accept accepts one connection of l within ioTimeout.
func accept(t *testing.T, l net.Listener) net.Conn {
	t.Helper()
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.c
	case <-time.After(ioTimeout):
		t.Fatal("Accept did not return")
		return nil
	}
}

// oneOverLimit returns a listener limited to total connections and
// perSource from one source that holds one accepted connection (first,
// the listener's side) with a second dialled to it (second, the client's
// side) while a background Accept sends what it returns to got.
func oneOverLimit(t *testing.T, total, perSource int) (lim *Limiter, l *Listener, refused <-chan error, first, second net.Conn, got <-chan net.Conn) {
	t.Helper()
	lim, err := NewLimiter(total, perSource)
	if err != nil {
		t.Fatal(err)
	}
	l, refused = listen(t, lim)
	dial(t, l)
	first = accept(t, l)
	second = dial(t, l)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	return lim, l, refused, first, second, accepted
}

// wantClosedByPeer checks that the server closed c.
func wantClosedByPeer(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	if n, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatalf("read %d bytes from a refused connection", n)
	} else if errors.Is(err, net.ErrClosed) || isTimeout(err) {
		t.Fatalf("connection not closed by the listener: %v", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestListenerPerSource: a connection beyond the per-source limit is
// closed at once and reported, and Accept goes on; closing an accepted
// connection gives its place back.
func TestListenerPerSource(t *testing.T) {
	lim, l, refused, first, extra, got := oneOverLimit(t, 8, 1)
	select {
	case err := <-refused:
		if !errors.Is(err, ErrSourceLimit) {
			t.Fatalf("refusal %v, want ErrSourceLimit from 127.0.0.1", err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("no refusal reported")
	}
	wantClosedByPeer(t, extra)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	dial(t, l)
	select {
	case c := <-got:
		_ = c.Close()
	case <-time.After(ioTimeout):
		t.Fatal("no connection accepted after a place was given back")
	}
	want := LimitStats{Open: 0, Admitted: 2, RefusedPerSource: 1}
	if st := lim.Stats(); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
}

// TestListenerTotalWaits: at the total limit Accept waits, leaving the
// connection in the backlog, until a connection closes; Close wakes a
// waiting Accept with net.ErrClosed.
func TestListenerTotalWaits(t *testing.T) {
	lim, l, _, first, second, got := oneOverLimit(t, 1, 4)
	// The second connection is in the backlog: it is open, and nothing
	// reads from it.
	_ = second.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := second.Read(make([]byte, 1)); !isTimeout(err) {
		t.Fatalf("waiting connection: %v, want a timeout", err)
	}
	select {
	case <-got:
		t.Fatal("accepted beyond the total limit")
	default:
	}
	_ = first.Close()
	var c net.Conn
	select {
	case c = <-got:
	case <-time.After(ioTimeout):
		t.Fatal("Accept still waits after a connection closed")
	}
	if st := lim.Stats(); st.Open != 1 || st.Admitted != 2 || st.RefusedTotal != 0 {
		t.Errorf("stats %+v", st)
	}
	_ = c.Close()

	// Full again; Close wakes the waiting Accept.
	dial(t, l)
	held := accept(t, l)
	defer held.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		errc <- err
	}()
	_ = l.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v", err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("Close did not wake Accept")
	}
	select {
	case <-l.Done():
	default:
		t.Error("Done not closed after Close")
	}
}
