package stream

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/pki"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/turntest"
)

// holder is a Handler that echoes frames; a frame "hold" makes its
// connection hold an allocation (Conn.Hold) before the echo. It hands
// each connection it opens to the test, which may call Hold from outside
// Deliver, as an allocation's expiry does.
type holder struct{ conns chan *Conn }

func newHolder() *holder { return &holder{conns: make(chan *Conn, 8)} }

func (h *holder) Opened(c *Conn) error {
	h.conns <- c
	return nil
}

func (h *holder) Deliver(c *Conn, frames []byte) (int, RawFunc, bool) {
	for b := frames; len(b) > 0; {
		n, _ := c.FrameSize(b)
		if string(b[1:n]) == "hold" {
			c.Hold(true)
		}
		_ = c.Write(b[:n])
		b = b[n:]
	}
	return len(frames), nil, true
}

func (h *holder) Closed(*Conn) {}

// claimAll claims every connection as the length-framed test protocol.
func claimAll(s *Sniff) (Opening, Verdict) {
	if _, ok := s.Peek(1); !ok {
		return Opening{}, Fail
	}
	p := Protocol{Framer: lengthFramed, Transport: stats.TransportTCP}
	return Opening{Protocol: p, Conn: s.Conn(), Prefix: s.Peeked()}, Claim
}

// frame is s in the test protocol.
func frame(s string) []byte { return append([]byte{byte(len(s))}, s...) }

// roundTrip sends a frame of s and reads its echo.
func roundTrip(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := c.Write(frame(s)); err != nil {
		t.Fatalf("send %q: %v", s, err)
	}
	if got := readN(t, c, 1+len(s)); string(got[1:]) != s {
		t.Fatalf("echo %q, want %q", got, s)
	}
}

// waitClosed waits until the server closed c (closed from
// turntest.ClosedAt), at most 3 s, and returns when.
func waitClosed(t *testing.T, closed <-chan time.Time, what string) time.Time {
	t.Helper()
	select {
	case at := <-closed:
		if at.IsZero() {
			t.Fatalf("%s: still open", what)
		}
		return at
	case <-time.After(3 * time.Second):
		t.Fatalf("%s: still open after 3s", what)
		return time.Time{}
	}
}

// TestLifetimeNotExtendedByFrames: a connection without an allocation
// that sends a frame every 100 ms, well within the idle timeout, is
// closed at its lifetime from accept, and counted as such.
func TestLifetimeNotExtendedByFrames(t *testing.T) {
	const life = 300 * time.Millisecond
	s := start(t, newHolder(), Limits{UnheldLifetime: life, IdleTimeout: 200 * time.Millisecond}, claimAll)
	began := time.Now()
	c := dialTCP(t, s)
	at := turntest.KeepWriting(t, c, frame("ping"), 100*time.Millisecond)
	if lived := at.Sub(began); lived < life {
		t.Fatalf("closed after %v, before its lifetime %v", lived, life)
	}
	if st := s.Stats(); st.LifetimeExpired != 1 || st.IdleTimeouts != 0 {
		t.Fatalf("stats %+v, want 1 lifetime expired and no idle timeout", st)
	}
}

// TestLifetimeHeld: a connection that holds an allocation outlives the
// lifetime, also silent; once it stops holding one (from outside
// Deliver, as an expiry does) it goes on serving, over TLS too, and is
// closed a full lifetime later.
func TestLifetimeHeld(t *testing.T) {
	const life = 300 * time.Millisecond
	cert, ca := testCert(t)
	for _, tc := range []struct {
		name    string
		sniffer Sniffer
		client  func(net.Conn) net.Conn
	}{
		{"tcp", claimAll, func(c net.Conn) net.Conn { return c }},
		{"tls", TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, Protocol{Framer: lengthFramed}),
			func(c net.Conn) net.Conn {
				return tls.Client(c, &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHolder()
			s := start(t, h, Limits{UnheldLifetime: life, IdleTimeout: 5 * time.Second}, tc.sniffer)
			c := tc.client(dialTCP(t, s))
			roundTrip(t, c, "hold")
			sc := <-h.conns
			time.Sleep(2 * life) // past the lifetime, silent
			roundTrip(t, c, "ping")
			freed := time.Now()
			sc.Hold(false)
			roundTrip(t, c, "ping")
			at := waitClosed(t, turntest.ClosedAt(c), "after the allocation ended")
			if lived := at.Sub(freed); lived < life {
				t.Fatalf("closed %v after the allocation ended, before a lifetime (%v)", lived, life)
			}
			if st := s.Stats(); st.LifetimeExpired != 1 || st.IdleTimeouts != 0 {
				t.Fatalf("stats %+v, want 1 lifetime expired", st)
			}
		})
	}
}

// TestLifetimeRaw: a connection that turned raw (an RFC 6062 data
// connection) is not closed at the lifetime.
func TestLifetimeRaw(t *testing.T) {
	const life = 200 * time.Millisecond
	h := &recorder{closed: make(chan struct{})}
	s := start(t, h, Limits{UnheldLifetime: life}, claimFirst(3, stats.TransportTCP))
	c := dialTCP(t, s)
	if _, err := c.Write(frame("raw")); err != nil {
		t.Fatal(err)
	}
	readN(t, c, 4)
	time.Sleep(2 * life)
	if _, err := c.Write([]byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, c, 3); string(got) != "\x00\x01\x02" {
		t.Fatalf("raw echo %x", got)
	}
	if st := s.Stats(); st.LifetimeExpired != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestConnectionRate: new connections from one source beyond the burst
// are closed at once and counted, while another source still gets in.
func TestConnectionRate(t *testing.T) {
	s := start(t, newHolder(), Limits{ConnectionRate: 0.001, ConnectionBurst: 2}, claimAll)
	for range 2 {
		roundTrip(t, dialTCP(t, s), "ping")
	}
	over := dialTCP(t, s)
	_, _ = over.Write(frame("ping"))
	if n, err := io.Copy(io.Discard, over); n != 0 || isTimeout(err) {
		t.Fatalf("connection over the rate: read %d bytes, %v; want it closed unanswered", n, err)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	other, err := d.Dial("tcp", s.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_ = other.SetDeadline(time.Now().Add(10 * time.Second))
	roundTrip(t, other, "ping")
	if st := s.Stats(); st.RefusedRate != 1 || st.Accepted != 3 {
		t.Fatalf("stats %+v, want 1 refused for the rate and 3 accepted", st)
	}
}

// testCert returns a server certificate for 127.0.0.1 and its CA.
func testCert(tb testing.TB) (tls.Certificate, *pki.CA) {
	tb.Helper()
	now := time.Now()
	ca, err := pki.NewCA("avedge stream test CA", now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		tb.Fatal(err)
	}
	kp, err := ca.Issue(pki.Request{Usage: pki.ServerAuth, Names: []string{"127.0.0.1"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(30 * time.Minute)})
	if err != nil {
		tb.Fatal(err)
	}
	return kp.TLS(), ca
}

// TestBuffersGrow: frames larger than the small buffers of a connection
// without an allocation, sent at once and in pieces, arrive whole and are
// answered whole.
func TestBuffersGrow(t *testing.T) {
	h := &recorder{closed: make(chan struct{})}
	_, c := serve(t, h, claimFirst(255, stats.TransportTCP))
	var stream []byte
	for _, size := range []int{900, 3000, 8000, 20} {
		f := make([]byte, 3+size)
		f[0], f[1], f[2] = 255, byte(size>>8), byte(size)
		for i := range size {
			f[3+i] = byte(i)
		}
		stream = append(stream, f...)
	}
	want := bytes.Clone(stream)
	for len(stream) > 0 {
		n := min(len(stream), 700)
		if _, err := c.Write(stream[:n]); err != nil {
			t.Fatal(err)
		}
		stream = stream[n:]
	}
	if got := readN(t, c, len(want)); !bytes.Equal(got, want) {
		t.Fatal("echo differs from the frames sent")
	}
}
