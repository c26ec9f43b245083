package msturn

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

func TestBuildDataIndication(t *testing.T) {
	payload := []byte("an RTP packet, odd length")
	for _, tc := range []struct {
		peer   string
		framed bool
	}{
		{"192.0.2.10:40000", false},
		{"192.0.2.10:40000", true},
		{"[2001:db8::10]:40000", false},
		{"[2001:db8::10]:40000", true},
	} {
		peer := netip.MustParseAddrPort(tc.peer)
		buf := make([]byte, DataIndicationHeadroom+len(payload)+8)
		off := DataIndicationHeadroom
		copy(buf[off:], payload)
		msg, err := BuildDataIndication(buf, off, len(payload), peer, seqID(), tc.framed)
		if err != nil {
			t.Fatal(err)
		}
		if tc.framed {
			typ, n, ok, err := ParseFrameHeader(msg)
			if typ != FrameControl || n != len(msg)-FrameHeaderSize || !ok || err != nil {
				t.Fatalf("frame header %x", msg[:4])
			}
			msg = msg[FrameHeaderSize:]
		}
		// The same bytes as the Builder makes.
		var w Builder
		w.Start(make([]byte, 0, 256), DataIndication, seqID())
		w.AddAddress(AttrRemoteAddress, peer)
		w.Add(AttrData, payload)
		if !bytes.Equal(msg, w.Message()) {
			t.Fatalf("%v: built %x\nwant %x", peer, msg, w.Message())
		}
		var m Message
		if err := m.Decode(msg); err != nil || m.Type != DataIndication {
			t.Fatal(err, m.Type)
		}
		if a, err := m.Address(AttrRemoteAddress); err != nil || a != peer {
			t.Fatal(a, err)
		}
	}
	buf := make([]byte, 100)
	if _, err := BuildDataIndication(buf, 10, 5, netip.MustParseAddrPort("192.0.2.1:1"), seqID(), false); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("no headroom: %v", err)
	}
	if _, err := BuildDataIndication(buf, 90, 20, netip.MustParseAddrPort("192.0.2.1:1"), seqID(), false); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("data past the end: %v", err)
	}
	n := testing.AllocsPerRun(100, func() {
		_, _ = BuildDataIndication(buf, 64, 10, netip.MustParseAddrPort("[2001:db8::1]:1"), seqID(), true)
	})
	if n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
