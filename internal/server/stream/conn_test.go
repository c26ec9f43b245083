package stream

import (
	"bytes"
	"errors"
	"testing"

	"github.com/avedge/avedge/internal/stunproto"
)

// TestWriteDoesNotAllocate: once the queue has grown, queueing for a
// client costs no allocation, writes the protocol's padding, and a full
// queue drops with ErrFull.
func TestWriteDoesNotAllocate(t *testing.T) {
	pad := func(b []byte) int {
		if stunproto.IsChannelData(b) {
			return stunproto.ChannelDataPadding(len(b))
		}
		return 0
	}
	c := &Conn{proto: Protocol{Pad: pad}, out: make([]byte, 0, 64), queueMax: 64, writing: true, wake: make(chan struct{}, 1)}
	msg := []byte{0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5}
	allocs := testing.AllocsPerRun(100, func() {
		c.mu.Lock()
		c.out = c.out[:0]
		c.mu.Unlock()
		if err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per Write", allocs)
	}
	if !bytes.Equal(c.out, append(msg, 0, 0, 0)) {
		t.Fatalf("queued %x, want the padded message", c.out)
	}
	for range 4 {
		_ = c.Write(msg)
	}
	if err := c.Write(msg); !errors.Is(err, ErrFull) {
		t.Fatalf("Write on a full queue: %v, want ErrFull", err)
	}
}
