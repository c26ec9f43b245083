package stunproto

import (
	"testing"

	"github.com/pion/stun/v3"
)

func TestClassify(t *testing.T) {
	binding := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint).Raw
	tests := []struct {
		name string
		in   []byte
		want Kind
	}{
		{"binding request", binding, KindSTUN},
		{"bare header", stun.MustBuild(stun.TransactionID, stun.BindingRequest).Raw, KindSTUN},
		{"channeldata", []byte{0x40, 0x01, 0x00, 0x00}, KindChannelData},
		{"reserved channel still channeldata", []byte{0x7F, 0xFF, 0x00, 0x00}, KindChannelData},
		{"stun truncated", binding[:len(binding)-4], KindInvalid},
		{"stun trailing garbage", append(append([]byte(nil), binding...), 0, 0, 0, 0), KindInvalid},
		{"stun bad cookie", append([]byte{0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x43}, make([]byte, 12)...), KindInvalid},
		{"stun length not multiple of 4", append([]byte{0, 1, 0, 2, 0x21, 0x12, 0xA4, 0x42}, make([]byte, 14)...), KindInvalid},
		{"rtp", append([]byte{0x80, 0x60}, make([]byte, 30)...), KindInvalid},
		{"dtls", append([]byte{0x16, 0xFE}, make([]byte, 30)...), KindInvalid},
		{"short", []byte{0, 1}, KindInvalid},
		{"empty", nil, KindInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.in); got != tc.want {
				t.Errorf("Classify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindInvalid: "invalid", KindSTUN: "stun", KindChannelData: "channeldata", Kind(9): "invalid"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}
