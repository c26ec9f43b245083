package credsvc

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

// TestSniffConnBound: bytes that stay a prefix of both protocols go to
// HTTP after maxSniff bytes, and stay buffered; a connection that closes
// undecided is an error.
func TestSniffConnBound(t *testing.T) {
	undecided := func([]byte) Sniffed { return SniffUndecided }
	in := strings.Repeat("A", 2*maxSniff)
	br := bufio.NewReaderSize(strings.NewReader(in), maxSniff)
	if v, err := sniffConn(br, undecided); v != SniffHTTP || err != nil {
		t.Fatalf("sniffConn = %v, %v", v, err)
	}
	if b, _ := io.ReadAll(br); string(b) != in {
		t.Errorf("bytes lost: %d of %d left", len(b), len(in))
	}
	if v, err := sniffConn(bufio.NewReaderSize(strings.NewReader("SERV"), maxSniff), undecided); v != SniffUndecided || err != io.EOF {
		t.Errorf("sniffConn of a closed prefix = %v, %v", v, err)
	}
}
