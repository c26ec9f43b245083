package server

import (
	"bytes"
	"errors"
	"testing"

	"github.com/avedge/avedge/internal/server/stream"
)

func TestFrameSize(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		max  int
		want int
		err  error
	}{
		{"empty", nil, 100, 0, nil},
		{"STUN header incomplete", []byte{0x00, 0x01, 0x00}, 100, 0, nil},
		{"STUN", []byte{0x00, 0x01, 0x00, 0x08}, 100, 28, nil},
		{"ChannelData padded", []byte{0x40, 0x00, 0x00, 0x05}, 100, 12, nil},
		{"ChannelData aligned", []byte{0x40, 0x00, 0x00, 0x08}, 100, 12, nil},
		{"ChannelData empty", []byte{0x40, 0x00, 0x00, 0x00}, 100, 4, nil},
		{"too large", []byte{0x00, 0x01, 0x00, 0x54}, 100, 0, stream.ErrFrameTooLarge},
		{"not TURN", []byte{0x80}, 100, 0, stream.ErrNotFramed},
		{"TLS record", []byte{0x16, 0x03, 0x01}, 100, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := frameSize(tc.in, tc.max)
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Fatalf("frameSize = %d, %v; want %d, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// frames splits b into complete frames and the rest, as the reader does.
func frames(b []byte, max int) ([][]byte, []byte, error) {
	var out [][]byte
	for {
		n, err := frameSize(b, max)
		if err != nil {
			return out, b, err
		}
		if n == 0 || n > len(b) {
			return out, b, nil
		}
		out = append(out, b[:n])
		b = b[n:]
	}
}

// FuzzStreamFramer checks the stream framer: it never panics, frames stay
// within the limit, and framing a stream fed in two pieces gives the
// frames of framing it whole.
func FuzzStreamFramer(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 3)
	f.Add([]byte{0x40, 0x00, 0x00, 0x01, 0xAA, 0, 0, 0, 0x40, 0x01, 0x00, 0x00}, 5)
	f.Add([]byte{0x40, 0x00, 0xFF, 0xFF}, 2)
	f.Add([]byte{0x16, 0x03, 0x01, 0x00, 0x10}, 1)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		const max = 512
		whole, rest, err := frames(b, max)
		total := len(rest)
		for _, fr := range whole {
			if len(fr) > max || len(fr) < 4 {
				t.Fatalf("frame of %d bytes", len(fr))
			}
			total += len(fr)
		}
		if total != len(b) {
			t.Fatalf("frames cover %d of %d bytes", total, len(b))
		}
		if len(b) == 0 {
			return
		}
		split = (split%len(b) + len(b)) % len(b)
		first, rest1, err1 := frames(b[:split], max)
		if err1 != nil {
			if !errors.Is(err, err1) {
				t.Fatalf("prefix error %v, whole %v", err1, err)
			}
			return
		}
		second, rest2, err2 := frames(append(append([]byte(nil), rest1...), b[split:]...), max)
		got := append(first, second...)
		if len(got) != len(whole) || !errors.Is(err2, err) || !bytes.Equal(rest2, rest) {
			t.Fatalf("split at %d: %d frames, rest %d, %v; whole: %d frames, rest %d, %v",
				split, len(got), len(rest2), err2, len(whole), len(rest), err)
		}
		for i := range got {
			if !bytes.Equal(got[i], whole[i]) {
				t.Fatalf("frame %d differs", i)
			}
		}
	})
}
