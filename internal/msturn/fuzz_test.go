package msturn

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode and, when that succeeds, to
// every getter and to integrity checking. Nothing may panic, and decoded
// addresses must re-encode to the bytes they came from (reserved byte
// aside).
func FuzzDecode(f *testing.F) {
	for _, h := range []string{allocateMD5, allocateSHA256, rfcBinding, libniceClientHello} {
		f.Add(unhex(f, h))
	}
	var w Builder
	w.Start(make([]byte, 0, 512), DataIndication, seqID())
	w.AddAddress(AttrRemoteAddress, mustAddrPort("[2001:db8::1]:9"))
	w.AddString(AttrData, "media")
	w.AddXORMappedAddress(mustAddrPort("192.0.2.9:7"))
	w.AddSequence(Sequence{Number: 7})
	w.AddErrorCode(CodeStaleNonce, "Stale Nonce")
	f.Add(bytes.Clone(w.Message()))
	sha1 := NewIntegrity(Key("user", "realm", "pass"))
	sha256 := NewIntegrity(KeySHA256("user", "realm", "pass", "nonce"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _, _ = ParseFrameHeader(b)
		_ = IsClientHello(b)
		var m Message
		if m.Decode(b) != nil {
			return
		}
		_ = sha1.Check(&m)
		_ = sha256.Check(&m)
		_ = m.Unknown(nil)
		_, _ = m.Sequence()
		_, _ = m.ErrorCode()
		_, _ = m.RequestedFamily()
		for _, at := range []AttrType{AttrLifetime, AttrMSVersion, AttrBandwidth} {
			_, _ = m.Uint32(at)
		}
		for _, at := range []AttrType{AttrMappedAddress, AttrDestinationAddress, AttrRemoteAddress, AttrAlternateServer} {
			a, err := m.Address(at)
			if err != nil {
				continue
			}
			v, _ := m.Get(at)
			var e [addrSize6]byte
			if n := putAddress(e[:], a, nil); !bytes.Equal(e[1:n], v[1:]) {
				t.Fatalf("%#x: re-encoded %x from %x", at, e[:n], v)
			}
		}
		if a, err := m.XORMappedAddress(); err == nil {
			v, _ := m.Get(AttrXORMappedAddress)
			var e [addrSize6]byte
			if n := putAddress(e[:], a, &m.TxID); !bytes.Equal(e[1:n], v[1:]) {
				t.Fatalf("XOR-MAPPED re-encoded %x from %x", e[:n], v)
			}
		}
	})
}
