package tcprelay

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// TestSplice: bytes cross both ways as they are, the client's first bytes
// ahead of the rest; when one side closes, end runs, Splice returns and
// the bytes are counted.
func TestSplice(t *testing.T) {
	client, clientEnd := net.Pipe()
	peer, peerEnd := net.Pipe()
	var ctr Counters
	var once sync.Once
	end := func() { once.Do(func() { _ = client.Close(); _ = peer.Close() }) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		Splice(&ctr, client, peer, []byte("first "), peer, client, end)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for _, c := range []net.Conn{clientEnd, peerEnd} {
		_ = c.SetDeadline(deadline)
	}
	read := func(c net.Conn, n int) []byte {
		t.Helper()
		b := make([]byte, n)
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	if got := read(peerEnd, 6); !bytes.Equal(got, []byte("first ")) {
		t.Fatalf("peer got %q first", got)
	}
	if _, err := clientEnd.Write([]byte("to peer")); err != nil {
		t.Fatal(err)
	}
	if got := read(peerEnd, 7); string(got) != "to peer" {
		t.Fatalf("peer got %q", got)
	}
	if _, err := peerEnd.Write([]byte("to client")); err != nil {
		t.Fatal(err)
	}
	if got := read(clientEnd, 9); string(got) != "to client" {
		t.Fatalf("client got %q", got)
	}
	_ = peerEnd.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Splice did not return after the peer closed")
	}
	st := ctr.Stats()
	if st.ToPeerBytes != 13 || st.ToClientBytes != 9 || st.DataOpen != 0 {
		t.Fatalf("counted %+v, want 13 bytes to the peer, 9 to the client, none open", st)
	}
}
