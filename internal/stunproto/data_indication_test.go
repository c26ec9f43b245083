package stunproto

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/pion/stun/v3"
)

func TestBuildDataIndication(t *testing.T) {
	tests := []struct {
		name    string
		peer    string
		payload string
		head    int // bytes written before the payload
	}{
		{"ipv4", "192.0.2.1:5000", "hello", 36},
		{"ipv6", "[2001:db8::7]:6000", "hello, world", 48},
		{"ipv4 aligned", "198.51.100.2:1", "abcd", 36},
		{"ipv4 empty", "198.51.100.2:1", "", 36},
		{"ipv4-mapped peer", "[::ffff:192.0.2.9]:7", "x", 36},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			peer := netip.MustParseAddrPort(tc.peer)
			off := DataIndicationHeadroom + 5
			buf := bytes.Repeat([]byte{0xEE}, off+len(tc.payload)+DataIndicationTailroom+7)
			copy(buf[off:], tc.payload)
			msg, err := BuildDataIndication(buf, off, len(tc.payload), peer, testTxID)
			if err != nil {
				t.Fatal(err)
			}
			if &msg[0] != &buf[off-tc.head] {
				t.Errorf("message does not start %d bytes before the payload", tc.head)
			}
			if len(msg)%4 != 0 || len(msg) != tc.head+len(tc.payload)+ChannelDataPadding(len(tc.payload)) {
				t.Errorf("message length %d", len(msg))
			}
			if Classify(msg) != KindSTUN {
				t.Errorf("Classify = %v, want stun", Classify(msg))
			}
			m := decode(t, msg)
			if m.Type != stun.NewType(stun.MethodData, stun.ClassIndication) {
				t.Errorf("type = %v", m.Type)
			}
			if m.TransactionID != testTxID {
				t.Errorf("txid = %x", m.TransactionID)
			}
			var got XORPeerAddress
			if err := got.GetFrom(m); err != nil {
				t.Fatal(err)
			}
			if got.Addr != netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port()) {
				t.Errorf("peer = %v, want %v", got.Addr, peer)
			}
			var d Data
			if err := d.GetFrom(m); err != nil {
				t.Fatal(err)
			}
			if string(d) != tc.payload {
				t.Errorf("data = %q, want %q", d, tc.payload)
			}
			for i, c := range msg[tc.head+len(tc.payload):] {
				if c != 0 {
					t.Errorf("padding byte %d = %#x, want 0", i, c)
				}
			}
		})
	}
}

func TestBuildDataIndicationErrors(t *testing.T) {
	v4 := netip.MustParseAddrPort("192.0.2.1:5000")
	v6 := netip.MustParseAddrPort("[2001:db8::1]:5000")
	tests := []struct {
		name   string
		bufLen int
		off, n int
		peer   netip.AddrPort
		err    error
	}{
		{"v4 headroom 35", 100, 35, 5, v4, ErrShortBuffer},
		{"v4 headroom 36 ok", 100, 36, 5, v4, nil},
		{"v6 headroom 47", 100, 47, 5, v6, ErrShortBuffer},
		{"v6 headroom 48 ok", 100, 48, 5, v6, nil},
		{"no tailroom for padding", 48 + 5 + 2, 48, 5, v6, ErrShortBuffer},
		{"exact tailroom", 48 + 5 + 3, 48, 5, v6, nil},
		{"payload past buffer", 60, 48, 20, v6, ErrShortBuffer},
		{"negative n", 100, 48, -1, v6, ErrShortBuffer},
		{"negative off", 100, -1, 1, v6, ErrShortBuffer},
		{"invalid peer", 100, 48, 5, netip.AddrPort{}, ErrBadAddress},
		{"too large", 48 + 65535 + 3, 48, 65535, v4, ErrOutOfRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := BuildDataIndication(make([]byte, tc.bufLen), tc.off, tc.n, tc.peer, testTxID)
			if !errors.Is(err, tc.err) {
				t.Errorf("err = %v, want %v", err, tc.err)
			}
		})
	}
}

func TestBuildDataIndicationAllocs(t *testing.T) {
	buf := make([]byte, DataIndicationHeadroom+1200+DataIndicationTailroom)
	for _, s := range []string{"192.0.2.1:5000", "[2001:db8::1]:5000"} {
		peer := netip.MustParseAddrPort(s)
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := BuildDataIndication(buf, DataIndicationHeadroom, 1199, peer, testTxID); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: allocs = %v, want 0", s, allocs)
		}
	}
}

func BenchmarkBuildDataIndication(b *testing.B) {
	buf := make([]byte, DataIndicationHeadroom+1200+DataIndicationTailroom)
	peer := netip.MustParseAddrPort("[2001:db8::1]:5000")
	b.ReportAllocs()
	b.SetBytes(1200)
	for b.Loop() {
		if _, err := BuildDataIndication(buf, DataIndicationHeadroom, 1200, peer, testTxID); err != nil {
			b.Fatal(err)
		}
	}
}
