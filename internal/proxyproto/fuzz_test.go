package proxyproto

import (
	"bytes"
	"testing"
)

// FuzzRead feeds Read arbitrary bytes: it must not panic, must read no more
// than a header's bounds, and a header it accepts must parse the same from
// its bytes alone (it did not need the bytes after it).
func FuzzRead(f *testing.F) {
	f.Add([]byte("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\nrest"))
	f.Add([]byte(ffffV1))
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Add(unhex(f, sig+"21 11 0020 c0000201 c0000202 0fa0 01bb 01 0002 6832 02 0009 7475726e2e74657374 04 0000"))
	f.Add(unhex(f, sig+"21 21 0024 20010db8000000000000000000000001 20010db8000000000000000000000002 0fa0 01bb"))
	f.Add(unhex(f, sig+"20 00 0000"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		h, err := Read(r)
		if err != nil {
			return
		}
		used := len(in) - r.Len()
		switch h.Version {
		case 1:
			if used > v1MaxLen || in[0] != 'P' {
				t.Fatalf("version 1 header of %d bytes from % x", used, in[:used])
			}
		case 2:
			if used > v2HeaderLen+MaxV2Body || in[0] != '\r' {
				t.Fatalf("version 2 header of %d bytes from % x", used, in[:used])
			}
		default:
			t.Fatalf("version %d", h.Version)
		}
		if h.Proxied != (h.Source.IsValid() && h.Dest.IsValid()) || h.Source.Addr().Is4In6() {
			t.Fatalf("header %+v", h)
		}
		again, err := Read(bytes.NewReader(in[:used]))
		if err != nil || again != h {
			t.Fatalf("header bytes alone: %+v, %v; want %+v", again, err, h)
		}
	})
}
