package msturn

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

// rfcBinding is the RFC 5769 §2.1 sample request: RFC STUN, not the
// dialect.
const rfcBinding = `
00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
00 24 00 04 6e 00 01 ff 80 29 00 08 93 2f f9 b1 51 26 3b 36
00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20 00 08 00 14
9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
80 28 00 04 e5 7a 3b cf`

func TestIs(t *testing.T) {
	good := unhex(t, allocateMD5)
	cases := []struct {
		name string
		b    []byte
		want bool
	}{
		{"allocate", good, true},
		{"rfc 5389 request", unhex(t, rfcBinding), false},
		{"short", good[:MinSize-1], false},
		{"length too long", append(bytes.Clone(good), 0), false},
		{"first bits", func() []byte { b := bytes.Clone(good); b[0] |= 0x40; return b }(), false},
		{"cookie value", func() []byte { b := bytes.Clone(good); b[27] ^= 1; return b }(), false},
		{"cookie not first", func() []byte { b := bytes.Clone(good); b[21] = 0x06; return b }(), false},
		{"channeldata", []byte{0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4}, false},
		{"over 65,535 bytes", func() []byte {
			b := make([]byte, HeaderSize+0xFFFF)
			copy(b, good[:MinSize])
			be.PutUint16(b[2:4], 0xFFFF)
			return b
		}(), false},
	}
	for _, tc := range cases {
		if got := Is(tc.b); got != tc.want {
			t.Errorf("%s: Is = %v", tc.name, got)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	head := func(attrs []byte) []byte {
		var w Builder
		w.Start(make([]byte, 0, 2048), SendRequest, seqID())
		b := append(w.Message(), attrs...)
		be.PutUint16(b[2:4], uint16(len(b)-HeaderSize))
		return b
	}
	var m Message
	if err := m.Decode(head([]byte{0x00, 0x13, 0x00})); !errors.Is(err, ErrTruncated) {
		t.Fatalf("short attribute header: %v", err)
	}
	if err := m.Decode(head([]byte{0x00, 0x13, 0x00, 0x05, 1, 2})); !errors.Is(err, ErrTruncated) {
		t.Fatalf("value past the end: %v", err)
	}
	var many []byte
	for range MaxAttributes {
		many = append(many, 0x80, 0x55, 0x00, 0x00)
	}
	if err := m.Decode(head(many)); !errors.Is(err, ErrTooManyAttributes) {
		t.Fatalf("too many: %v", err)
	}
	if err := m.Decode(unhex(t, rfcBinding)); !errors.Is(err, ErrNotMSTURN) {
		t.Fatalf("rfc message: %v", err)
	}
	if m.Contains(AttrMagicCookie) {
		t.Fatal("a failed Decode leaves attributes behind")
	}
	// Attributes after MESSAGE-INTEGRITY are ignored, even broken ones.
	b := head([]byte{0x00, 0x08, 0x00, 0x02, 0xAA, 0xBB, 0x00, 0x13, 0x00, 0x09})
	if err := m.Decode(b); err != nil {
		t.Fatalf("after MI: %v", err)
	}
	if m.Contains(AttrData) || m.IntegritySize() != 2 {
		t.Fatal("attribute after MESSAGE-INTEGRITY decoded")
	}
}

func TestAttributes(t *testing.T) {
	var w Builder
	w.Start(make([]byte, 0, 512), AllocateResponse, seqID())
	relayed := netip.MustParseAddrPort("198.51.100.7:50123")
	peer6 := netip.MustParseAddrPort("[2001:db8::9]:3478")
	w.AddAddress(AttrMappedAddress, relayed)
	w.AddAddress(AttrRemoteAddress, peer6)
	w.AddUint32(AttrLifetime, 600)
	w.AddUint32(AttrMSVersion, 4)
	w.Add(AttrRequestedAddressFamily, []byte{FamilyIPv6, 0, 0, 0})
	w.AddErrorCode(CodeStaleNonce, "Stale Nonce")
	w.AddUnknown([]AttrType{0x0030, 0x0031})
	w.AddString(AttrData, "abc") // odd length: the next attribute follows at once
	w.AddUint32(AttrBandwidth, 750)
	if w.Err() != nil {
		t.Fatal(w.Err())
	}
	var m Message
	if err := m.Decode(w.Message()); err != nil {
		t.Fatal(err)
	}
	if a, err := m.Address(AttrMappedAddress); err != nil || a != relayed {
		t.Fatalf("mapped %v %v", a, err)
	}
	if a, err := m.Address(AttrRemoteAddress); err != nil || a != peer6 {
		t.Fatalf("remote %v %v", a, err)
	}
	if v, err := m.Uint32(AttrLifetime); err != nil || v != 600 {
		t.Fatalf("lifetime %v %v", v, err)
	}
	if f, err := m.RequestedFamily(); err != nil || f != FamilyIPv6 {
		t.Fatalf("family %v %v", f, err)
	}
	if c, err := m.ErrorCode(); err != nil || c != 438 {
		t.Fatalf("code %v %v", c, err)
	}
	if v, _ := m.Get(AttrData); string(v) != "abc" {
		t.Fatalf("data %q", v)
	}
	if v, err := m.Uint32(AttrBandwidth); err != nil || v != 750 {
		t.Fatalf("bandwidth after odd data: %v %v", v, err)
	}
	if _, err := m.Address(AttrDestinationAddress); !errors.Is(err, ErrNotFound) {
		t.Fatalf("absent: %v", err)
	}
	if _, err := m.Uint32(AttrData); !errors.Is(err, ErrMalformed) {
		t.Fatalf("3-byte number: %v", err)
	}
	if _, err := m.Sequence(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("sequence: %v", err)
	}
	if u := m.Unknown(nil); len(u) != 0 {
		t.Fatalf("unknown %v", u)
	}
}

func TestUnknownAndMalformed(t *testing.T) {
	var w Builder
	w.Start(make([]byte, 0, 512), AllocateRequest, seqID())
	w.Add(0x0030, []byte{1})                        // unknown, comprehension-required
	w.Add(0x8056, []byte{0, 0, 0, 1})               // bandwidth admission control: optional, ignored
	w.Add(AttrMappedAddress, []byte{0, 3, 0, 1, 1}) // bad family
	w.Add(AttrRequestedAddressFamily, []byte{9, 0, 0, 0})
	w.Add(AttrErrorCode, []byte{0, 0, 7, 0})
	w.Add(AttrMSSequenceNumber, []byte{1, 2, 3})
	var m Message
	if err := m.Decode(w.Message()); err != nil {
		t.Fatal(err)
	}
	if u := m.Unknown(nil); len(u) != 1 || u[0] != 0x0030 {
		t.Fatalf("unknown %v", u)
	}
	if _, err := m.Address(AttrMappedAddress); !errors.Is(err, ErrMalformed) {
		t.Fatalf("address: %v", err)
	}
	if _, err := m.RequestedFamily(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("family: %v", err)
	}
	if _, err := m.ErrorCode(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("error code: %v", err)
	}
	if _, err := m.Sequence(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("sequence: %v", err)
	}
	if NewIntegrity(Key("a", "b", "c")).Check(&m) == nil {
		t.Fatal("a message without integrity verifies")
	}
}

func TestBuilderShortBuffer(t *testing.T) {
	var w Builder
	w.Start(make([]byte, 0, MinSize-1), AllocateRequest, seqID())
	if !errors.Is(w.Err(), ErrShortBuffer) {
		t.Fatalf("start: %v", w.Err())
	}
	w.Start(make([]byte, 0, MinSize+6), AllocateRequest, seqID())
	w.AddUint32(AttrLifetime, 1)
	w.AddString(AttrData, "x") // does not fit
	if !errors.Is(w.Err(), ErrShortBuffer) {
		t.Fatalf("add: %v", w.Err())
	}
	// A frame header before the message stays where it is.
	dst := make([]byte, FrameHeaderSize, 128)
	w.Start(dst, AllocateResponse, seqID())
	w.AddUint32(AttrLifetime, 1)
	PutFrameHeader(w.Bytes(), FrameControl, len(w.Message()))
	if !Is(w.Bytes()[FrameHeaderSize:]) || len(w.Bytes()) != FrameHeaderSize+MinSize+8 {
		t.Fatalf("framed %x", w.Bytes())
	}
}

func TestZeroAllocations(t *testing.T) {
	b := unhex(t, allocateMD5)
	in := NewIntegrity(Key("user", "realm", "pass"))
	var m Message
	buf := make([]byte, 0, 256)
	var w Builder
	peer := netip.MustParseAddrPort("192.0.2.1:5000")
	n := testing.AllocsPerRun(100, func() {
		_ = Is(b)
		if m.Decode(b) != nil || in.Check(&m) != nil {
			t.Fatal("decode or check failed")
		}
		_, _ = m.Get(AttrUsername)
		w.Start(buf[:FrameHeaderSize], DataIndication, m.TxID)
		w.AddAddress(AttrRemoteAddress, peer)
		w.Add(AttrData, b)
		w.AddXORMappedAddress(peer)
		w.Sign(in)
	})
	if n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
}
