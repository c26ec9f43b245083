package stream

import (
	"net"
	"testing"
)

// TestPeek: Peek returns what it was asked for, keeps it for the next
// peek, and refuses sizes outside its room instead of returning less.
func TestPeek(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	go func() { _, _ = client.Write([]byte("0123456789abcdefXYZ")) }()
	s := &Sniff{conn: server}
	if b, ok := s.Peek(2); !ok || string(b) != "01" {
		t.Fatalf("Peek(2) = %q, %v", b, ok)
	}
	if b, ok := s.Peek(16); !ok || string(b) != "0123456789abcdef" || string(s.Peeked()) != "0123456789abcdef" {
		t.Fatalf("Peek(16) = %q, %v", b, ok)
	}
	for _, n := range []int{-1, 17} {
		if b, ok := s.Peek(n); ok || b != nil {
			t.Fatalf("Peek(%d) = %q, %v; want nothing", n, b, ok)
		}
	}
}
