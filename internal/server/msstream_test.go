package server

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/turntest"
)

// TestMSStream: the dialect over TCP, on a connection that opens with a
// control frame, and after the pseudo-TLS handshake: framed Allocate, Send
// and Set Active Destination; the active destination's data comes in data
// frames (0x03), the other peers' as Data Indications in control frames;
// the client's data frames reach the active destination; the allocation
// ends with the connection.
func TestMSStream(t *testing.T) {
	for _, pseudoTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("pseudoTLS=%v", pseudoTLS), func(t *testing.T) {
			se := newStreamEdge(t, nil)
			u, p := se.credential("alice", time.Hour)
			c := se.newMSStreamClient(pseudoTLS, u, p)
			r := c.allocate()
			if got, _ := r.XORMappedAddress(); got != c.addr() {
				t.Fatalf("XOR-MAPPED-ADDRESS %v, want the connection's %v", got, c.addr())
			}
			p1, p2 := newPeer(t, "127.0.0.1"), newPeer(t, "127.0.0.2")
			c.send(p1.addr(), []byte("hello p1"))
			wantPeerGot(t, p1, []byte("hello p1"), c.relayed)
			c.send(p2.addr(), []byte("hello p2"))
			wantPeerGot(t, p2, []byte("hello p2"), c.relayed)
			c.barrier() // the Sends were not answered

			p1.sendTo([]byte("pong"), c.relayed)
			typ, b := c.next()
			if typ != msturn.FrameControl {
				t.Fatalf("Data Indication in a frame of type %#x, want a control frame", typ)
			}
			wantDataIndication(t, b, p1.addr(), []byte("pong"))

			c.wantSuccess(c.sad(p1.addr()), msturn.SetActiveDestResponse)
			c.writeRaw([]byte("raw to p1"))
			wantPeerGot(t, p1, []byte("raw to p1"), c.relayed)
			p1.sendTo([]byte("raw back"), c.relayed)
			if typ, b := c.next(); typ != msturn.FrameData || string(b) != "raw back" {
				t.Fatalf("got a frame of type %#x with %q, want a data frame with the active destination's data", typ, b)
			}
			p2.sendTo([]byte("from p2"), c.relayed)
			typ, b = c.next()
			if typ != msturn.FrameControl {
				t.Fatalf("Data Indication in a frame of type %#x, want a control frame", typ)
			}
			wantDataIndication(t, b, p2.addr(), []byte("from p2"))

			relayed := c.relayed
			c.stream.Close()
			if rec := se.waitEnded(); rec.Reason != "connection closed" || rec.Relayed != relayed {
				t.Fatalf("record %+v, want connection closed of %v", rec, relayed)
			}
			free, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(relayed))
			if err != nil {
				t.Fatalf("relay port not freed: %v", err)
			}
			free.Close()
		})
	}
}

// msStrayAllocate is what libnice's second, broken connection sends: a
// data frame type and reserved byte, then an unframed Allocate.
func msStrayAllocate(t *testing.T) []byte {
	t.Helper()
	return append([]byte{0x03, 0x00}, msBuild(t, msturn.AllocateRequest, newTxID(), msU32(msturn.AttrMSVersion, 1))...)
}

// TestMSStreamSniff: a dialect connection (framed, or after pseudo-TLS)
// whose first frame is not a control frame holding a message of the
// dialect (libnice's stray connection), or whose frame is over the limit,
// is closed at once and counted, instead of waiting for the frame
// timeout. (TestStreamSniff shows the same listener still serving real
// TLS and plain RFC TURN.)
func TestMSStreamSniff(t *testing.T) {
	se := newStreamEdge(t, nil)
	for _, tc := range []struct {
		name      string
		pseudoTLS bool
		send      []byte
		count     func(stats.StreamStats) uint64
	}{
		{"stray connection after pseudo-TLS", true, msStrayAllocate(t), func(s stats.StreamStats) uint64 { return s.NotTURN }},
		{"stray connection on plain TCP", false, msStrayAllocate(t), func(s stats.StreamStats) uint64 { return s.NotTURN }},
		{"first control frame not of the dialect", false, []byte{0x02, 0x00, 0x00, 0x04, 'a', 'b', 'c', 'd'},
			func(s stats.StreamStats) uint64 { return s.NotTURN }},
		{"oversized frame", false, []byte{0x02, 0x00, 0xFF, 0xFF}, func(s stats.StreamStats) uint64 { return s.FrameTooLarge }},
		{"oversized frame after pseudo-TLS", true, []byte{0x02, 0x00, 0xFF, 0xFF}, func(s stats.StreamStats) uint64 { return s.FrameTooLarge }},
		{"broken frame header", true, []byte{0x05, 0x00, 0x00, 0x01, 'x'}, func(s stats.StreamStats) uint64 { return s.NotTURN }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.count(se.srv.Stats().Stream)
			c := se.dial(false)
			if tc.pseudoTLS {
				msPseudoTLS(t, c)
			}
			if _, err := c.Write(tc.send); err != nil {
				t.Fatal(err)
			}
			// Closed at once: the frame timeout (10 s) is longer than
			// turntest.WantClosed waits.
			turntest.WantClosed(t, c)
			waitFor(t, func() bool { return tc.count(se.srv.Stats().Stream) == before+1 })
		})
	}
}
