package stunproto

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pion/stun/v3"
)

func TestConnectionIDRoundTrip(t *testing.T) {
	tests := []struct {
		id   ConnectionID
		wire []byte
	}{
		{0, []byte{0, 0, 0, 0}},
		{1, []byte{0, 0, 0, 1}},
		{0x01020304, []byte{1, 2, 3, 4}},
		{0xFFFFFFFF, []byte{0xFF, 0xFF, 0xFF, 0xFF}},
	}
	for _, tc := range tests {
		m := build(t, tc.id)
		v, err := m.Get(stun.AttrConnectionID)
		if err != nil {
			t.Fatalf("%#x: %v", uint32(tc.id), err)
		}
		if !bytes.Equal(v, tc.wire) {
			t.Errorf("%#x: wire %x, want %x", uint32(tc.id), v, tc.wire)
		}
		var got ConnectionID
		if err := got.GetFrom(m); err != nil || got != tc.id {
			t.Errorf("GetFrom = %#x, %v; want %#x", uint32(got), err, uint32(tc.id))
		}
	}
}

func TestConnectionIDErrors(t *testing.T) {
	tests := []struct {
		name string
		m    *stun.Message
		want error
	}{
		{"absent", build(t), stun.ErrAttributeNotFound},
		{"short", withRaw(t, stun.AttrConnectionID, []byte{1, 2, 3}), ErrBadLength},
		{"long", withRaw(t, stun.AttrConnectionID, []byte{1, 2, 3, 4, 5}), ErrBadLength},
		{"empty", withRaw(t, stun.AttrConnectionID, nil), ErrBadLength},
	}
	for _, tc := range tests {
		var id ConnectionID
		if err := id.GetFrom(tc.m); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
}
