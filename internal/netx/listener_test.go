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

// scriptedListener is a net.Listener whose Accept reports that it was
// entered and then returns what the test sends it.
type scriptedListener struct {
	entered chan struct{}
	conns   chan net.Conn
	errs    chan error
}

func newScriptedListener() *scriptedListener {
	return &scriptedListener{entered: make(chan struct{}), conns: make(chan net.Conn), errs: make(chan error)}
}

func (l *scriptedListener) Accept() (net.Conn, error) {
	l.entered <- struct{}{}
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errs:
		return nil, err
	}
}

func (l *scriptedListener) Close() error   { return nil }
func (l *scriptedListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// step sends v on ch within ioTimeout.
func step[T any](t *testing.T, ch chan<- T, v T, what string) {
	t.Helper()
	select {
	case ch <- v:
	case <-time.After(ioTimeout):
		t.Fatalf("%s: Accept not waiting", what)
	}
}

// waitEntered waits until Accept of l is entered, within ioTimeout.
func (l *scriptedListener) waitEntered(t *testing.T, what string) {
	t.Helper()
	select {
	case <-l.entered:
	case <-time.After(ioTimeout):
		t.Fatalf("%s: the wrapped Accept was not called", what)
	}
}

// TestListenerOpenAndAcceptError: an Accept waiting for a connection is
// not an open connection in the Limiter's Stats; an Accept error of the
// wrapped listener is returned and gives its place back, so that the
// next Accept can go on at a total limit of 1.
func TestListenerOpenAndAcceptError(t *testing.T) {
	lim, err := NewLimiter(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	sl := newScriptedListener()
	l := NewListener(sl, lim, nil)
	type result struct {
		c   net.Conn
		err error
	}
	results := make(chan result, 1)
	acceptOnce := func() {
		c, err := l.Accept()
		results <- result{c, err}
	}
	wantResult := func() result {
		t.Helper()
		select {
		case r := <-results:
			return r
		case <-time.After(ioTimeout):
			t.Fatal("Accept did not return")
			return result{}
		}
	}

	go acceptOnce()
	sl.waitEntered(t, "first Accept")
	if st := lim.Stats(); st.Open != 0 {
		t.Errorf("open %d while Accept waits, want 0", st.Open)
	}
	boom := errors.New("accept failed")
	step(t, sl.errs, boom, "first Accept")
	if r := wantResult(); !errors.Is(r.err, boom) {
		t.Fatalf("Accept: %v, want %v", r.err, boom)
	}

	go acceptOnce()
	sl.waitEntered(t, "Accept after an error")
	a, b := net.Pipe()
	defer b.Close()
	step(t, sl.conns, a, "Accept after an error")
	r := wantResult()
	if r.err != nil {
		t.Fatal(r.err)
	}
	if st := lim.Stats(); st.Open != 1 || st.Admitted != 1 {
		t.Errorf("stats %+v with one connection, want 1 open, 1 admitted", st)
	}
	_ = r.c.Close()
	if st := lim.Stats(); st.Open != 0 {
		t.Errorf("open %d after Close, want 0", st.Open)
	}
}

// remoteConn is a connection with a chosen remote address.
type remoteConn struct {
	net.Conn
	remote net.Addr
}

func (c remoteConn) RemoteAddr() net.Addr { return c.remote }

// TestListenerPerSource64: the Listener, as the credential service uses
// it, counts IPv6 clients per /64: a second address of the /64 is closed
// at once and reported, while an address of another /64 is accepted.
func TestListenerPerSource64(t *testing.T) {
	lim, err := NewLimiter(8, 1)
	if err != nil {
		t.Fatal(err)
	}
	sl := newScriptedListener()
	refused := make(chan net.Addr, 1)
	l := NewListener(sl, lim, func(remote net.Addr, err error) {
		if errors.Is(err, ErrSourceLimit) {
			refused <- remote
		}
	})
	accepted := make(chan net.Conn, 2)
	go func() {
		for range 2 {
			c, err := l.Accept()
			if err != nil {
				t.Error(err)
				return
			}
			accepted <- c
		}
	}()
	offer := func(addr string) net.Conn {
		t.Helper()
		a, b := net.Pipe()
		t.Cleanup(func() { _ = b.Close() })
		sl.waitEntered(t, addr)
		step(t, sl.conns, net.Conn(remoteConn{Conn: a, remote: &net.TCPAddr{IP: net.ParseIP(addr), Port: 40000}}), addr)
		return b
	}
	offer("2001:db8:1:2::1")
	second := offer("2001:db8:1:2::2")
	select {
	case r := <-refused:
		if r.String() != "[2001:db8:1:2::2]:40000" {
			t.Fatalf("refused %v", r)
		}
	case <-time.After(ioTimeout):
		t.Fatal("a second address of one /64 was not refused")
	}
	_ = second.SetReadDeadline(time.Now().Add(ioTimeout))
	if _, err := second.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("refused connection not closed: %v", err)
	}
	offer("2001:db8:1:3::1")
	for range 2 {
		select {
		case c := <-accepted:
			_ = c.Close()
		case <-time.After(ioTimeout):
			t.Fatal("connections of two /64s not both accepted")
		}
	}
}
