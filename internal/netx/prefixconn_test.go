package netx

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestPrefixConn: the replayed bytes come first, also across short
// reads, then what the peer sent; CloseWrite reaches a TCP connection
// (the peer reads EOF) and is unsupported on a pipe.
func TestPrefixConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client := dial(t, ln)
	server := accept(t, ln)
	defer server.Close()
	if _, err := io.WriteString(client, "rest"); err != nil {
		t.Fatal(err)
	}
	pc := &PrefixConn{Conn: server, Prefix: []byte("sniffed ")}
	_ = pc.SetDeadline(time.Now().Add(ioTimeout))
	var got []byte
	buf := make([]byte, 3)
	for len(got) < len("sniffed rest") {
		n, err := pc.Read(buf)
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "sniffed rest" {
		t.Fatalf("read %q", got)
	}
	if err := pc.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(ioTimeout))
	if _, err := client.Read(buf); err != io.EOF {
		t.Fatalf("peer read %v after CloseWrite, want EOF", err)
	}

	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if err := (&PrefixConn{Conn: a}).CloseWrite(); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("CloseWrite on a pipe: %v", err)
	}
}
