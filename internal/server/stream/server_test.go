package stream

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/server/stats"
)

// lengthFramed frames a test protocol: a byte of length, then that many
// bytes; 255 announces a 16-bit length in the next two bytes instead; a
// zero length breaks the framing.
func lengthFramed(b []byte, max int) (int, error) {
	size := 0
	switch {
	case len(b) == 0:
		return 0, nil
	case b[0] == 0:
		return 0, ErrNotFramed
	case b[0] < 255:
		size = 1 + int(b[0])
	case len(b) < 3:
		return 0, nil
	default:
		size = 3 + int(b[1])<<8 + int(b[2])
	}
	if size > max {
		return 0, ErrFrameTooLarge
	}
	return size, nil
}

// claimFirst returns a sniffer claiming connections whose first byte is
// first, as transport.
func claimFirst(first byte, transport stats.Transport) Sniffer {
	return func(s *Sniff) (Opening, Verdict) {
		b, ok := s.Peek(1)
		switch {
		case !ok:
			return Opening{}, Fail
		case b[0] != first:
			return Opening{}, Pass
		}
		p := Protocol{Framer: lengthFramed, Transport: transport}
		return Opening{Protocol: p, Conn: s.Conn(), Prefix: s.Peeked()}, Claim
	}
}

// recorder is a Handler that echoes every frame back and records them;
// a frame "raw" turns the connection raw, echoing the raw bytes.
type recorder struct {
	mu        sync.Mutex
	frames    [][]byte
	transport stats.Transport
	closed    chan struct{}
}

func (h *recorder) Opened(c *Conn) error {
	h.mu.Lock()
	h.transport = c.Transport()
	h.mu.Unlock()
	return nil
}

func (h *recorder) Deliver(c *Conn, frames []byte) (int, RawFunc, bool) {
	for b := frames; len(b) > 0; {
		n, _ := c.FrameSize(b)
		h.mu.Lock()
		h.frames = append(h.frames, append([]byte(nil), b[1:n]...))
		h.mu.Unlock()
		_ = c.Write(b[:n])
		if string(b[1:n]) == "raw" {
			consumed := len(frames) - len(b) + n
			return consumed, func(nc net.Conn, rest []byte, _ <-chan struct{}) {
				_, _ = nc.Write(rest)
				_, _ = io.Copy(nc, nc)
			}, true
		}
		b = b[n:]
	}
	return len(frames), nil, true
}

func (h *recorder) Closed(*Conn) { close(h.closed) }

// serve starts a Server on loopback with the sniffers and returns a
// connected client.
func serve(t *testing.T, h Handler, sniffers ...Sniffer) (*Server, net.Conn) {
	t.Helper()
	s := start(t, h, Limits{HandshakeTimeout: 5 * time.Second}, sniffers...)
	return s, dialTCP(t, s)
}

// start starts a Server on loopback with the limits and sniffers.
func start(t *testing.T, h Handler, lim Limits, sniffers ...Sniffer) *Server {
	t.Helper()
	s, err := Listen(Options{
		Listeners: []Listener{{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Sniffers: sniffers}},
		Limits:    lim,
		Handler:   h,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Run()
	t.Cleanup(s.Stop)
	return s
}

// dialTCP connects to s.
func dialTCP(t *testing.T, s *Server) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.Addrs()[0].String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func readN(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

// TestSniffersInOrder: a connection goes to the first sniffer that claims
// it, not to a later one that would too; its frames, sent in pieces, reach
// the handler whole and in order, and its answers come back through the
// queue.
func TestSniffersInOrder(t *testing.T) {
	h := &recorder{closed: make(chan struct{})}
	_, c := serve(t, h, claimFirst(9, stats.TransportTLS), claimFirst(3, stats.TransportTCP),
		claimFirst(3, stats.TransportPseudoTLS))
	stream := []byte{3, 'a', 'b', 'c', 2, 'd', 'e'}
	for _, piece := range [][]byte{stream[:2], stream[2:5], stream[5:]} {
		if _, err := c.Write(piece); err != nil {
			t.Fatal(err)
		}
	}
	if got := readN(t, c, len(stream)); !bytes.Equal(got, stream) {
		t.Fatalf("echoed %x, want %x", got, stream)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.frames) != 2 || string(h.frames[0]) != "abc" || string(h.frames[1]) != "de" || h.transport != stats.TransportTCP {
		t.Fatalf("frames %q over %s, want abc, de over tcp", h.frames, h.transport)
	}
}

// TestUnclaimedAndBroken: a connection no sniffer claims is closed and
// counted as not TURN; one that breaks its framing or sends a frame over
// the limit is closed and counted too.
func TestUnclaimedAndBroken(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bytes []byte
		count func(stats.StreamStats) uint64
	}{
		{"unclaimed", []byte{7, 1}, func(s stats.StreamStats) uint64 { return s.NotTURN }},
		{"broken framing", []byte{3, 1, 2, 3, 0}, func(s stats.StreamStats) uint64 { return s.NotTURN }},
		{"too large", []byte{3, 1, 2, 3, 255, 0xFF, 0xFF}, func(s stats.StreamStats) uint64 { return s.FrameTooLarge }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &recorder{closed: make(chan struct{})}
			s, c := serve(t, h, claimFirst(3, stats.TransportTCP))
			if _, err := c.Write(tc.bytes); err != nil {
				t.Fatal(err)
			}
			// The server closes: EOF, or a reset for the bytes it left
			// unread; a timeout would be a failure.
			if _, err := io.ReadAll(c); err != nil && isTimeout(err) {
				t.Fatalf("read until closed: %v", err)
			}
			// Counted before the connection closed.
			if n := tc.count(s.Stats()); n != 1 {
				t.Fatalf("counted %d, want 1 (%+v)", n, s.Stats())
			}
		})
	}
}

// isTimeout reports whether err is a deadline that ran out.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestRaw: after the frame that turns the connection raw, its answer is
// flushed first, then the bytes the client sent behind it and everything
// after reach the RawFunc unframed.
func TestRaw(t *testing.T) {
	h := &recorder{closed: make(chan struct{})}
	_, c := serve(t, h, claimFirst(3, stats.TransportTCP))
	if _, err := c.Write([]byte{3, 'r', 'a', 'w', 0, 0xFF}); err != nil {
		t.Fatal(err)
	}
	want := []byte{3, 'r', 'a', 'w', 0, 0xFF}
	if got := readN(t, c, len(want)); !bytes.Equal(got, want) {
		t.Fatalf("got %x, want the answer then the raw rest %x", got, want)
	}
	if _, err := c.Write([]byte{0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, c, 3); !bytes.Equal(got, []byte{0, 0, 0}) {
		t.Fatalf("raw echo %x", got)
	}
	_ = c.Close()
	select {
	case <-h.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Closed not called")
	}
}
