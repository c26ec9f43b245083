package msdialect

import (
	"errors"
	"testing"

	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stream"
)

// TestFrameSize: the [MS-TURN] framing (§2.1.4): a 4-byte header of
// type, zero and length, no padding; a partial header asks for more,
// another type or a nonzero reserved byte breaks the stream, a length
// over the limit is too large.
func TestFrameSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want int
		err  error
	}{
		{"empty", nil, 0, nil},
		{"partial header", []byte{0x02, 0x00, 0x00}, 0, nil},
		{"control", []byte{0x02, 0x00, 0x00, 0x05, 1}, 9, nil},
		{"data, odd length, no padding", []byte{0x03, 0x00, 0x00, 0x03}, 7, nil},
		{"other type", []byte{0x01, 0x00, 0x00, 0x05}, 0, stream.ErrNotFramed},
		{"reserved byte", []byte{0x02, 0x01, 0x00, 0x05}, 0, stream.ErrNotFramed},
		{"too large", []byte{0x02, 0x00, 0x01, 0x00}, 0, stream.ErrFrameTooLarge},
	} {
		n, err := FrameSize(tc.b, 200)
		if n != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%s: %d, %v; want %d, %v", tc.name, n, err, tc.want, tc.err)
		}
	}
}

// TestOpens: the first frames of an [MS-TURN] connection must open
// with a control frame holding a message of the dialect.
func TestOpens(t *testing.T) {
	var b msturn.Builder
	b.Start(make([]byte, msturn.FrameHeaderSize, 64), msturn.AllocateRequest, msturn.TxID{1})
	b.AddUint32(msturn.AttrMSVersion, 1)
	good := b.Bytes()
	msturn.PutFrameHeader(good, msturn.FrameControl, len(good)-msturn.FrameHeaderSize)
	data := append([]byte(nil), good...)
	data[0] = msturn.FrameData
	notMS := append([]byte{0x02, 0x00, 0x00, 0x04}, 1, 2, 3, 4)
	for _, tc := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"control frame with an Allocate", good, true},
		{"the same in a data frame", data, false},
		{"control frame that is not the dialect", notMS, false},
	} {
		if got := Opens(tc.b); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
