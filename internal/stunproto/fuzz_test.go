package stunproto

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/pion/stun/v3"
)

// FuzzDecode feeds arbitrary bytes to stun.Decode and, when that succeeds,
// to every getter and checker of this package. Nothing may panic, and
// decoded XOR addresses must re-encode to the same value.
func FuzzDecode(f *testing.F) {
	for _, h := range []string{rfc5769Request, rfc5769IPv4Response, rfc5769IPv6Response, rfc5769LongTerm, rfc8489B1} {
		f.Add(unhex(f, h))
	}
	f.Add(build(f,
		RequestedTransport{Protocol: ProtoUDP}, Lifetime{}, ChannelNumber(0x4000), Data("x"), DontFragment{},
		EvenPort{ReservePort: true}, ReservationToken{1}, RequestedAddressFamily(FamilyIPv6), AdditionalAddressFamily(FamilyIPv6),
		AddressErrorCode{Family: FamilyIPv6, Code: 440, Reason: "Address Family not Supported"},
		PasswordAlgorithms{{Algorithm: AlgSHA256}, {Algorithm: AlgMD5}}, PasswordAlgorithm{Algorithm: AlgMD5},
		XORPeerAddress{Addr: netip.MustParseAddrPort("192.0.2.1:1")}, XORPeerAddress{Addr: netip.MustParseAddrPort("[2001:db8::1]:2")},
		XORRelayedAddress{Addr: netip.MustParseAddrPort("198.51.100.1:3")}, NewMessageIntegritySHA256(testKey), stun.Fingerprint,
	).Raw)
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = Classify(b)
		m := new(stun.Message)
		if err := stun.Decode(b, m); err != nil {
			return
		}
		getters := []stun.Getter{
			new(RequestedTransport), new(Lifetime), new(ChannelNumber), new(Data), DontFragment{}, new(EvenPort),
			new(ReservationToken), new(RequestedAddressFamily), new(PasswordAlgorithm), new(PasswordAlgorithms),
			new(XORPeerAddress), new(XORRelayedAddress), new(XORMappedAddress), new(AdditionalAddressFamily),
			new(AddressErrorCode),
		}
		for _, g := range getters {
			_ = g.GetFrom(m)
		}
		_ = NewMessageIntegritySHA256(testKey).Check(m)
		_ = UnknownComprehensionRequired(m, func(stun.AttrType) bool { return false }, nil)
		_, _ = relayedAddresses(m, nil)
		peers, err := PeerAddresses(m, nil)
		if err != nil {
			return
		}
		i := 0
		for _, a := range m.Attributes {
			if a.Type != stun.AttrXORPeerAddress {
				continue
			}
			var v [xorAddrSize6]byte
			n, err := putXORAddress(v[:], peers[i], &m.TransactionID)
			if err != nil {
				t.Fatalf("re-encode %v: %v", peers[i], err)
			}
			if !bytes.Equal(v[1:n], a.Value[1:]) {
				t.Fatalf("re-encoded %x, want %x (reserved byte aside)", v[:n], a.Value)
			}
			i++
		}
	})
}

// FuzzChannelData checks ParseChannelData and Classify on arbitrary bytes:
// no panic, and for accepted input the payload lies within b and matches
// the header's number and length.
func FuzzChannelData(f *testing.F) {
	f.Add([]byte{0x40, 0x00, 0x00, 0x03, 'a', 'b', 'c', 0})
	f.Add([]byte{0x4F, 0xFF, 0x00, 0x00})
	f.Add([]byte{0x50, 0x00, 0x00, 0x00})
	f.Add([]byte{0x40, 0x00, 0xFF, 0xFF, 1})
	f.Add(unhex(f, rfc5769Request))
	f.Fuzz(func(t *testing.T, b []byte) {
		kind := Classify(b)
		num, payload, err := ParseChannelData(b)
		if err != nil {
			return
		}
		if kind != KindChannelData || !IsChannelData(b) {
			t.Fatalf("parsed as ChannelData but Classify = %v", kind)
		}
		if num < MinChannel || num > MaxLegacyChannel || num != be.Uint16(b[0:2]) {
			t.Fatalf("number %#x does not match header %x", num, b[:2])
		}
		if len(payload) != int(be.Uint16(b[2:4])) {
			t.Fatalf("payload length %d, header says %d", len(payload), be.Uint16(b[2:4]))
		}
		if len(b)-ChannelDataHeaderSize-len(payload) > 3 {
			t.Fatalf("%d trailing bytes accepted", len(b)-ChannelDataHeaderSize-len(payload))
		}
		if len(payload) > 0 && &payload[0] != &b[ChannelDataHeaderSize] {
			t.Fatal("payload does not alias b after the header")
		}
	})
}
