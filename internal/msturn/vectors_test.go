package msturn

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

// The specification carries no protocol examples with bytes, so these
// vectors come from independent implementations of the dialect (libnice,
// svens/turner) and from the algorithm they agree on; each says where.

// allocateMD5 is an Allocate request signed with HMAC-SHA1 under
// MD5("user:realm:pass"): transaction ID 00..0f, USERNAME "user", REALM
// "realm" (0x0015), NONCE "nonce" (0x0014), unpadded; the MAC covers the
// 58 bytes before MESSAGE-INTEGRITY zero-padded to 64.
const allocateMD5 = `
00 03 00 3a 00 01 02 03 04 05 06 07 08 09 0a 0b
0c 0d 0e 0f 00 0f 00 04 72 c6 4b c6 00 06 00 04
75 73 65 72 00 15 00 05 72 65 61 6c 6d 00 14 00
05 6e 6f 6e 63 65 00 08 00 14 a2 b4 ec 95 26 20
d0 da 0c 1f 83 86 8a ac 76 53 dd c1 6b 02`

// allocateSHA256 is svens/turner's MS-VERSION 3 vector: an Allocate with
// MAGIC-COOKIE and an HMAC-SHA256 MESSAGE-INTEGRITY keyed from user
// "user", realm "realm", nonce "nonce", password "pass".
const allocateSHA256 = `
00 03 00 2c 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
00 0f 00 04 72 c6 4b c6
00 08 00 20 89 0e 90 e0 fe e6 ed 6f a3 3a c9 7e a0 04 76 16 27 95 e2 5a 60 73 86 cc 98 17 fa 6e d8 d2 cd 14`

func TestKeyMD5(t *testing.T) {
	want := unhex(t, "84 93 fb c5 3b a5 82 fb 4c 04 4c 45 6b dc 40 eb")
	if got := Key("user", "realm", "pass"); !bytes.Equal(got, want) {
		t.Fatalf("Key = %x, want %x", got, want)
	}
}

func TestIntegrityVectors(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		key       []byte
	}{
		{"SHA1", allocateMD5, Key("user", "realm", "pass")},
		{"SHA256", allocateSHA256, KeySHA256("user", "realm", "pass", "nonce")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := unhex(t, tc.msg)
			var m Message
			if err := m.Decode(b); err != nil {
				t.Fatal(err)
			}
			if m.Type != AllocateRequest || m.TxID != seqID() {
				t.Fatalf("type %#x id %x", m.Type, m.TxID)
			}
			in := NewIntegrity(tc.key)
			if err := in.Check(&m); err != nil {
				t.Fatalf("Check: %v", err)
			}
			// Rebuilt with the Builder, the message is the same bytes.
			var w Builder
			w.Start(make([]byte, 0, 128), AllocateRequest, seqID())
			if tc.name == "SHA1" {
				w.AddString(AttrUsername, "user")
				w.AddString(AttrRealm, "realm")
				w.AddString(AttrNonce, "nonce")
			}
			w.Sign(in)
			if w.Err() != nil || !bytes.Equal(w.Message(), b) {
				t.Fatalf("built %x (err %v), want %x", w.Message(), w.Err(), b)
			}
			// Any flipped bit, in the text or the MAC, fails.
			for i := range b {
				c := bytes.Clone(b)
				c[i] ^= 0x01
				var m2 Message
				if m2.Decode(c) != nil {
					continue
				}
				if in.Check(&m2) == nil {
					t.Fatalf("flipped byte %d still verifies", i)
				}
			}
			// The other key fails.
			if NewIntegrity(Key("user", "realm", "other")).Check(&m) == nil {
				t.Fatal("wrong password verifies")
			}
		})
	}
}

// TestIntegrityNeedsPadding: the MAC of the unpadded text (RFC 5389 style)
// is not what the dialect sends.
func TestIntegrityNeedsPadding(t *testing.T) {
	b := unhex(t, allocateMD5)
	var m Message
	if err := m.Decode(b); err != nil {
		t.Fatal(err)
	}
	v, _ := m.Get(AttrMessageIntegrity)
	if bytes.Equal(v, unhex(t, "f292711a7e03fa3f7e0c5c4c1a9dcb405e91c4a2")) {
		t.Fatal("vector carries the unpadded MAC")
	}
	if m.IntegritySize() != 20 {
		t.Fatalf("IntegritySize = %d", m.IntegritySize())
	}
}

// TestXORMappedAddressVectors: svens/turner's XOR-MAPPED-ADDRESS vectors,
// transaction ID 00..0f.
func TestXORMappedAddressVectors(t *testing.T) {
	for _, tc := range []struct {
		addr, attr string
	}{
		{"1.2.3.4:4660", "80 20 00 08 00 01 12 35 01 03 01 07"},
		{"[102:304:506:708:90a:b0c:d0e:f10]:4660",
			"80 20 00 14 00 02 12 35 01 03 01 07 01 03 01 0f 01 03 01 07 01 03 01 1f"},
	} {
		a := netip.MustParseAddrPort(tc.addr)
		var w Builder
		w.Start(make([]byte, 0, 64), AllocateResponse, seqID())
		w.AddXORMappedAddress(a)
		want := unhex(t, tc.attr)
		if got := w.Message()[MinSize:]; !bytes.Equal(got, want) {
			t.Fatalf("%v: %x, want %x", a, got, want)
		}
		var m Message
		if err := m.Decode(w.Message()); err != nil {
			t.Fatal(err)
		}
		if got, err := m.XORMappedAddress(); err != nil || got != a {
			t.Fatalf("decoded %v, %v; want %v", got, err, a)
		}
	}
}

// TestSequenceVector: svens/turner's MS-SEQUENCE-NUMBER vector.
func TestSequenceVector(t *testing.T) {
	var s Sequence
	for i := range s.ConnID {
		s.ConnID[i] = byte(i)
	}
	s.Number = 0x01020304
	var w Builder
	w.Start(make([]byte, 0, 64), SetActiveDestResponse, seqID())
	w.AddSequence(s)
	want := unhex(t, "80 50 00 18 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 01 02 03 04")
	if got := w.Message()[MinSize:]; !bytes.Equal(got, want) {
		t.Fatalf("%x, want %x", got, want)
	}
	var m Message
	if err := m.Decode(w.Message()); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Sequence(); err != nil || got != s {
		t.Fatalf("%+v %v", got, err)
	}
}

// libniceClientHello is the ClientHello libnice sends in its MSOC
// pseudo-TLS mode (socket/pseudossl.c).
const libniceClientHello = `
16 03 01 00 2d 01 00 00 29 03 01
c1 fc d5 a3 6d 93 dd 7e 0b 45 67 3f ec 79 85 fb
bc 3f d6 60 c2 ce 84 85 08 1b 81 21 bc aa 10 fb
00 00 02 00 18 01 00`

func TestPseudoTLS(t *testing.T) {
	hello := unhex(t, libniceClientHello)
	if !IsClientHelloPrefix(hello) || !IsClientHello(hello) {
		t.Fatal("libnice's ClientHello not recognised")
	}
	// A real TLS 1.2 ClientHello record header is not taken for one.
	if IsClientHelloPrefix(unhex(t, "16 03 01 02 00")) {
		t.Fatal("real TLS record header taken for pseudo-TLS")
	}
	bad := bytes.Clone(hello)
	bad[len(bad)-4] = 0x2f // another cipher suite
	if IsClientHello(bad) || IsClientHello(hello[:49]) {
		t.Fatal("altered ClientHello accepted")
	}
	var rnd, sid [32]byte
	for i := range rnd {
		rnd[i], sid[i] = byte(i), byte(0x80+i)
	}
	b := make([]byte, ServerHelloSize)
	PutServerHello(b, &rnd, &sid)
	// What libnice compares the answer with, its random and session ID
	// zeroed (socket/pseudossl.c).
	want := unhex(t, `16 03 01 00 4e 02 00 00 46 03 01`+
		` 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 20`+
		` 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00`+
		` 00 18 00 0e 00 00 00`)
	got := bytes.Clone(b)
	clear(got[11:43])
	clear(got[44:76])
	if !bytes.Equal(got, want) {
		t.Fatalf("ServerHello %x, want %x", got, want)
	}
	if !bytes.Equal(b[11:43], rnd[:]) || !bytes.Equal(b[44:76], sid[:]) {
		t.Fatal("random or session ID not written")
	}
}

func TestFrameHeader(t *testing.T) {
	b := make([]byte, 4)
	PutFrameHeader(b, FrameControl, 0x4e)
	if !bytes.Equal(b, []byte{0x02, 0x00, 0x00, 0x4e}) {
		t.Fatalf("%x", b)
	}
	typ, n, ok, err := ParseFrameHeader(b)
	if typ != FrameControl || n != 0x4e || !ok || err != nil {
		t.Fatal(typ, n, ok, err)
	}
	if _, _, ok, err := ParseFrameHeader(b[:3]); ok || err != nil {
		t.Fatal("short header", ok, err)
	}
	for _, h := range [][]byte{{0x01, 0, 0, 1}, {0x03, 1, 0, 1}, {0x16, 3, 1, 0}} {
		if _, _, _, err := ParseFrameHeader(h); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%x: %v", h, err)
		}
	}
}
