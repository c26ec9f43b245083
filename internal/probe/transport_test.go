package probe

import (
	"errors"
	"testing"
)

func TestFrameSize(t *testing.T) {
	for _, tc := range []struct {
		hdr  []byte
		want int
	}{
		{[]byte{0x00, 0x01, 0x00, 0x08}, 28}, // STUN: header + 8
		{[]byte{0x40, 0x00, 0x00, 0x05}, 12}, // ChannelData: 4 + 5 padded to 8
		{[]byte{0x4f, 0xff, 0x00, 0x08}, 12},
		{[]byte{0x40, 0x00, 0x00, 0x00}, 4},
	} {
		if got, err := frameSize(tc.hdr); err != nil || got != tc.want {
			t.Errorf("% x: %d, %v; want %d", tc.hdr, got, err, tc.want)
		}
	}
	if _, err := frameSize([]byte{0x80, 0, 0, 0}); !errors.Is(err, ErrProtocol) {
		t.Errorf("0x80: %v, want ErrProtocol", err)
	}
}
