package stunproto

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseChannelData(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		num     uint16
		payload []byte
		err     error
	}{
		{"exact", []byte{0x40, 0x00, 0x00, 0x03, 'a', 'b', 'c'}, 0x4000, []byte("abc"), nil},
		{"padded", []byte{0x4F, 0xFF, 0x00, 0x03, 'a', 'b', 'c', 0}, 0x4FFF, []byte("abc"), nil},
		{"padded 3", []byte{0x41, 0x23, 0x00, 0x01, 'x', 0, 0, 0}, 0x4123, []byte("x"), nil},
		{"empty payload", []byte{0x40, 0x01, 0x00, 0x00}, 0x4001, []byte{}, nil},
		{"too short", []byte{0x40, 0x00, 0x00}, 0, nil, ErrShortChannelData},
		{"nil", nil, 0, nil, ErrShortChannelData},
		{"length beyond datagram", []byte{0x40, 0x00, 0x00, 0x05, 'a', 'b'}, 0, nil, ErrChannelDataLength},
		{"too much trailing", []byte{0x40, 0x00, 0x00, 0x00, 0, 0, 0, 0}, 0, nil, ErrChannelDataLength},
		{"RFC 5766 0x5000", []byte{0x50, 0x00, 0x00, 0x01, 'y'}, 0x5000, []byte("y"), nil},
		{"RFC 5766 0x7FFF", []byte{0x7F, 0xFF, 0x00, 0x00}, 0x7FFF, []byte{}, nil},
		{"stun range", []byte{0x00, 0x01, 0x00, 0x00}, 0, nil, ErrInvalidChannel},
		{"high bits", []byte{0xC0, 0x00, 0x00, 0x00}, 0, nil, ErrInvalidChannel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			num, payload, err := ParseChannelData(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if num != tc.num || !bytes.Equal(payload, tc.payload) {
				t.Errorf("got (%#x, %q), want (%#x, %q)", num, payload, tc.num, tc.payload)
			}
			if err == nil && cap(payload) != len(payload) {
				t.Errorf("payload capacity %d exposes bytes past the data", cap(payload))
			}
		})
	}
}

func TestIsChannelData(t *testing.T) {
	tests := []struct {
		in   []byte
		want bool
	}{
		{[]byte{0x40, 0, 0, 0}, true},
		{[]byte{0x7F, 0, 0, 0}, true},
		{[]byte{0x3F, 0, 0, 0}, false},
		{[]byte{0x80, 0, 0, 0}, false},
		{[]byte{0x40, 0, 0}, false},
	}
	for _, tc := range tests {
		if got := IsChannelData(tc.in); got != tc.want {
			t.Errorf("IsChannelData(%x) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestPutChannelDataHeader(t *testing.T) {
	b := make([]byte, 4+5)
	copy(b[4:], "hello")
	PutChannelDataHeader(b, 0x4ABC, 5)
	if want := []byte{0x4A, 0xBC, 0x00, 0x05}; !bytes.Equal(b[:4], want) {
		t.Errorf("header = %x, want %x", b[:4], want)
	}
	num, payload, err := ParseChannelData(b)
	if err != nil || num != 0x4ABC || string(payload) != "hello" {
		t.Errorf("reparse = %#x %q %v", num, payload, err)
	}
}

func TestChannelDataPadding(t *testing.T) {
	for n, want := range []int{0, 3, 2, 1, 0, 3, 2, 1, 0} {
		if got := ChannelDataPadding(n); got != want {
			t.Errorf("ChannelDataPadding(%d) = %d, want %d", n, got, want)
		}
	}
	if got := ChannelDataPadding(65535); got != 1 {
		t.Errorf("ChannelDataPadding(65535) = %d, want 1", got)
	}
}

func TestChannelDataAllocs(t *testing.T) {
	good := append([]byte{0x40, 0x00, 0x00, 0x04}, "data"...)
	bad := []byte{0x50, 0x00, 0x00, 0x00}
	allocs := testing.AllocsPerRun(100, func() {
		_, _, _ = ParseChannelData(good)
		_, _, _ = ParseChannelData(bad)
		_ = Classify(good)
		PutChannelDataHeader(good, 0x4000, 4)
	})
	if allocs != 0 {
		t.Errorf("allocs = %v, want 0", allocs)
	}
}

func BenchmarkParseChannelData(b *testing.B) {
	pkt := make([]byte, ChannelDataHeaderSize+1200)
	PutChannelDataHeader(pkt, 0x4001, 1200)
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if _, _, err := ParseChannelData(pkt); err != nil {
			b.Fatal(err)
		}
	}
}
