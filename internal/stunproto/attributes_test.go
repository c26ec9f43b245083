package stunproto

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

func TestAttributeRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		in    stun.Setter
		typ   stun.AttrType
		wire  []byte // expected attribute value
		out   stun.Getter
		check func(t *testing.T, g stun.Getter)
	}{
		{
			name: "requested-transport udp", in: RequestedTransport{Protocol: ProtoUDP},
			typ: stun.AttrRequestedTransport, wire: []byte{17, 0, 0, 0}, out: new(RequestedTransport),
			check: func(t *testing.T, g stun.Getter) {
				if got := g.(*RequestedTransport).Protocol; got != ProtoUDP {
					t.Errorf("protocol = %d, want %d", got, ProtoUDP)
				}
			},
		},
		{
			name: "requested-transport tcp", in: RequestedTransport{Protocol: ProtoTCP},
			typ: stun.AttrRequestedTransport, wire: []byte{6, 0, 0, 0}, out: new(RequestedTransport),
			check: func(t *testing.T, g stun.Getter) {
				if got := g.(*RequestedTransport).Protocol; got != ProtoTCP {
					t.Errorf("protocol = %d, want %d", got, ProtoTCP)
				}
			},
		},
		{
			name: "lifetime", in: Lifetime{600*time.Second + 900*time.Millisecond},
			typ: stun.AttrLifetime, wire: []byte{0, 0, 0x02, 0x58}, out: new(Lifetime),
			check: func(t *testing.T, g stun.Getter) {
				if got := g.(*Lifetime).Duration; got != 600*time.Second {
					t.Errorf("lifetime = %v, want 10m", got)
				}
			},
		},
		{
			name: "lifetime max", in: Lifetime{0xFFFFFFFF * time.Second},
			typ: stun.AttrLifetime, wire: []byte{0xFF, 0xFF, 0xFF, 0xFF}, out: new(Lifetime),
			check: func(t *testing.T, g stun.Getter) {
				if got := g.(*Lifetime).Duration; got != 0xFFFFFFFF*time.Second {
					t.Errorf("lifetime = %v", got)
				}
			},
		},
		{
			name: "channel-number", in: ChannelNumber(0x4001),
			typ: stun.AttrChannelNumber, wire: []byte{0x40, 0x01, 0, 0}, out: new(ChannelNumber),
			check: func(t *testing.T, g stun.Getter) {
				if got := *g.(*ChannelNumber); got != 0x4001 {
					t.Errorf("channel = %#x", uint16(got))
				}
			},
		},
		{
			name: "data", in: Data("hello"),
			typ: stun.AttrData, wire: []byte("hello"), out: new(Data),
			check: func(t *testing.T, g stun.Getter) {
				if got := *g.(*Data); string(got) != "hello" {
					t.Errorf("data = %q", got)
				}
			},
		},
		{
			name: "data empty", in: Data(nil),
			typ: stun.AttrData, wire: []byte{}, out: new(Data),
			check: func(t *testing.T, g stun.Getter) {
				if got := *g.(*Data); len(got) != 0 {
					t.Errorf("data = %q", got)
				}
			},
		},
		{
			name: "dont-fragment", in: DontFragment{},
			typ: stun.AttrDontFragment, wire: []byte{}, out: new(DontFragment),
			check: func(*testing.T, stun.Getter) {},
		},
		{
			name: "even-port reserve", in: EvenPort{ReservePort: true},
			typ: stun.AttrEvenPort, wire: []byte{0x80}, out: new(EvenPort),
			check: func(t *testing.T, g stun.Getter) {
				if !g.(*EvenPort).ReservePort {
					t.Error("ReservePort = false")
				}
			},
		},
		{
			name: "even-port no reserve", in: EvenPort{},
			typ: stun.AttrEvenPort, wire: []byte{0}, out: &EvenPort{ReservePort: true},
			check: func(t *testing.T, g stun.Getter) {
				if g.(*EvenPort).ReservePort {
					t.Error("ReservePort = true")
				}
			},
		},
		{
			name: "reservation-token", in: ReservationToken{1, 2, 3, 4, 5, 6, 7, 8},
			typ: stun.AttrReservationToken, wire: []byte{1, 2, 3, 4, 5, 6, 7, 8}, out: new(ReservationToken),
			check: func(t *testing.T, g stun.Getter) {
				if got := *g.(*ReservationToken); got != (ReservationToken{1, 2, 3, 4, 5, 6, 7, 8}) {
					t.Errorf("token = %x", got)
				}
			},
		},
		{
			name: "requested-address-family v6", in: RequestedAddressFamily(FamilyIPv6),
			typ: stun.AttrRequestedAddressFamily, wire: []byte{2, 0, 0, 0}, out: new(RequestedAddressFamily),
			check: func(t *testing.T, g stun.Getter) {
				if got := *g.(*RequestedAddressFamily); got != RequestedAddressFamily(FamilyIPv6) {
					t.Errorf("family = %d", got)
				}
			},
		},
		{
			name: "additional-address-family v6", in: AdditionalAddressFamily(FamilyIPv6),
			typ: AttrAdditionalAddressFamily, wire: []byte{2, 0, 0, 0}, out: new(AdditionalAddressFamily),
			check: func(t *testing.T, g stun.Getter) {
				if got := *g.(*AdditionalAddressFamily); got != AdditionalAddressFamily(FamilyIPv6) {
					t.Errorf("family = %d", got)
				}
			},
		},
		{
			name: "address-error-code 440", in: AddressErrorCode{Family: FamilyIPv6, Code: stun.CodeAddrFamilyNotSupported, Reason: "Address Family not Supported"},
			typ: AttrAddressErrorCode, wire: append([]byte{2, 0, 4, 40}, "Address Family not Supported"...), out: new(AddressErrorCode),
			check: func(t *testing.T, g stun.Getter) {
				want := AddressErrorCode{Family: FamilyIPv6, Code: 440, Reason: "Address Family not Supported"}
				if got := *g.(*AddressErrorCode); got != want {
					t.Errorf("got %+v, want %+v", got, want)
				}
			},
		},
		{
			name: "address-error-code 508 no reason", in: AddressErrorCode{Family: FamilyIPv4, Code: stun.CodeInsufficientCapacity},
			typ: AttrAddressErrorCode, wire: []byte{1, 0, 5, 8}, out: &AddressErrorCode{Reason: "stale"},
			check: func(t *testing.T, g stun.Getter) {
				want := AddressErrorCode{Family: FamilyIPv4, Code: 508}
				if got := *g.(*AddressErrorCode); got != want {
					t.Errorf("got %+v, want %+v", got, want)
				}
			},
		},
		{
			name: "password-algorithm sha256", in: PasswordAlgorithm{Algorithm: AlgSHA256},
			typ: stun.AttrPasswordAlgorithm, wire: []byte{0, 2, 0, 0}, out: new(PasswordAlgorithm),
			check: func(t *testing.T, g stun.Getter) {
				if got := *g.(*PasswordAlgorithm); !got.Equal(PasswordAlgorithm{Algorithm: AlgSHA256}) {
					t.Errorf("alg = %+v", got)
				}
			},
		},
		{
			name: "password-algorithm with params", in: PasswordAlgorithm{Algorithm: 0x7777, Params: []byte{9, 8, 7, 6, 5}},
			typ: stun.AttrPasswordAlgorithm, wire: []byte{0x77, 0x77, 0, 5, 9, 8, 7, 6, 5, 0, 0, 0}, out: new(PasswordAlgorithm),
			check: func(t *testing.T, g stun.Getter) {
				want := PasswordAlgorithm{Algorithm: 0x7777, Params: []byte{9, 8, 7, 6, 5}}
				if got := *g.(*PasswordAlgorithm); !got.Equal(want) {
					t.Errorf("alg = %+v", got)
				}
			},
		},
		{
			name: "password-algorithms", in: PasswordAlgorithms{{Algorithm: AlgSHA256}, {Algorithm: 0x0009, Params: []byte{1}}, {Algorithm: AlgMD5}},
			typ:  stun.AttrPasswordAlgorithms,
			wire: []byte{0, 2, 0, 0, 0, 9, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0}, out: new(PasswordAlgorithms),
			check: func(t *testing.T, g stun.Getter) {
				want := PasswordAlgorithms{{Algorithm: AlgSHA256}, {Algorithm: 0x0009, Params: []byte{1}}, {Algorithm: AlgMD5}}
				if got := *g.(*PasswordAlgorithms); !got.Equal(want) {
					t.Errorf("algs = %+v", got)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := build(t, tc.in)
			v, err := m.Get(tc.typ)
			if err != nil {
				t.Fatalf("attribute %v missing: %v", tc.typ, err)
			}
			if !bytes.Equal(v, tc.wire) {
				t.Errorf("wire value = %x, want %x", v, tc.wire)
			}
			if err := tc.out.GetFrom(m); err != nil {
				t.Fatalf("GetFrom: %v", err)
			}
			tc.check(t, tc.out)
		})
	}
}

func TestAttributeAbsent(t *testing.T) {
	getters := []stun.Getter{
		new(RequestedTransport), new(Lifetime), new(ChannelNumber), new(Data), DontFragment{},
		new(EvenPort), new(ReservationToken), new(RequestedAddressFamily), new(PasswordAlgorithm),
		new(PasswordAlgorithms), new(XORPeerAddress), new(XORRelayedAddress), new(XORMappedAddress),
		new(AdditionalAddressFamily), new(AddressErrorCode),
	}
	m := build(t)
	for _, g := range getters {
		if err := g.GetFrom(m); !errors.Is(err, stun.ErrAttributeNotFound) {
			t.Errorf("%T.GetFrom on empty message = %v, want ErrAttributeNotFound", g, err)
		}
	}
}

func TestAttributeMalformed(t *testing.T) {
	tests := []struct {
		name string
		typ  stun.AttrType
		val  []byte
		g    stun.Getter
		want error
	}{
		{"requested-transport short", stun.AttrRequestedTransport, []byte{17}, new(RequestedTransport), ErrBadLength},
		{"requested-transport long", stun.AttrRequestedTransport, []byte{17, 0, 0, 0, 0}, new(RequestedTransport), ErrBadLength},
		{"lifetime short", stun.AttrLifetime, []byte{0, 0, 1}, new(Lifetime), ErrBadLength},
		{"lifetime empty", stun.AttrLifetime, nil, new(Lifetime), ErrBadLength},
		{"channel-number short", stun.AttrChannelNumber, []byte{0x40, 0}, new(ChannelNumber), ErrBadLength},
		{"dont-fragment with value", stun.AttrDontFragment, []byte{1}, DontFragment{}, ErrBadLength},
		{"even-port empty", stun.AttrEvenPort, nil, new(EvenPort), ErrBadLength},
		{"even-port 4 bytes", stun.AttrEvenPort, []byte{0x80, 0, 0, 0}, new(EvenPort), ErrBadLength},
		{"reservation-token short", stun.AttrReservationToken, []byte{1, 2, 3, 4}, new(ReservationToken), ErrBadLength},
		{"address-family short", stun.AttrRequestedAddressFamily, []byte{1}, new(RequestedAddressFamily), ErrBadLength},
		{"address-family unknown", stun.AttrRequestedAddressFamily, []byte{3, 0, 0, 0}, new(RequestedAddressFamily), ErrBadFamily},
		{"additional-family short", AttrAdditionalAddressFamily, []byte{2, 0}, new(AdditionalAddressFamily), ErrBadLength},
		{"additional-family unknown", AttrAdditionalAddressFamily, []byte{0, 0, 0, 0}, new(AdditionalAddressFamily), ErrBadFamily},
		{"address-error-code short", AttrAddressErrorCode, []byte{2, 0, 4}, new(AddressErrorCode), ErrBadLength},
		{"address-error-code reason too long", AttrAddressErrorCode, append([]byte{2, 0, 4, 40}, make([]byte, 764)...), new(AddressErrorCode), ErrBadLength},
		{"address-error-code class 2", AttrAddressErrorCode, []byte{2, 0, 2, 0}, new(AddressErrorCode), ErrOutOfRange},
		{"address-error-code class 7", AttrAddressErrorCode, []byte{2, 0, 7, 0}, new(AddressErrorCode), ErrOutOfRange},
		{"address-error-code number 100", AttrAddressErrorCode, []byte{2, 0, 4, 100}, new(AddressErrorCode), ErrOutOfRange},
		{"address-error-code family 3", AttrAddressErrorCode, []byte{3, 0, 4, 40}, new(AddressErrorCode), ErrBadFamily},
		{"password-algorithm short", stun.AttrPasswordAlgorithm, []byte{0, 1}, new(PasswordAlgorithm), ErrBadLength},
		{"password-algorithm params overrun", stun.AttrPasswordAlgorithm, []byte{0, 1, 0, 8, 1, 2}, new(PasswordAlgorithm), ErrBadLength},
		{"password-algorithm two entries", stun.AttrPasswordAlgorithm, []byte{0, 1, 0, 0, 0, 2, 0, 0}, new(PasswordAlgorithm), ErrBadLength},
		{"password-algorithms empty", stun.AttrPasswordAlgorithms, nil, new(PasswordAlgorithms), ErrBadLength},
		{"password-algorithms truncated entry", stun.AttrPasswordAlgorithms, []byte{0, 1, 0, 0, 0, 2}, new(PasswordAlgorithms), ErrBadLength},
		{"password-algorithms params overrun", stun.AttrPasswordAlgorithms, []byte{0, 2, 0xFF, 0xFF, 0, 0}, new(PasswordAlgorithms), ErrBadLength},
		{"xor-peer empty", stun.AttrXORPeerAddress, nil, new(XORPeerAddress), ErrBadLength},
		{"xor-peer v4 short", stun.AttrXORPeerAddress, []byte{0, 1, 0, 0, 1, 2, 3}, new(XORPeerAddress), ErrBadLength},
		{"xor-peer v4 long", stun.AttrXORPeerAddress, []byte{0, 1, 0, 0, 1, 2, 3, 4, 5}, new(XORPeerAddress), ErrBadLength},
		{"xor-peer v6 as 8 bytes", stun.AttrXORPeerAddress, []byte{0, 2, 0, 0, 1, 2, 3, 4}, new(XORPeerAddress), ErrBadLength},
		{"xor-relayed bad family", stun.AttrXORRelayedAddress, []byte{0, 3, 0, 0, 1, 2, 3, 4}, new(XORRelayedAddress), ErrBadFamily},
		{"xor-mapped family zero", stun.AttrXORMappedAddress, []byte{0, 0, 0, 0, 1, 2, 3, 4}, new(XORMappedAddress), ErrBadFamily},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := withRaw(t, tc.typ, tc.val)
			if err := tc.g.GetFrom(m); !errors.Is(err, tc.want) {
				t.Errorf("GetFrom = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAddToOutOfRange(t *testing.T) {
	tests := []struct {
		name string
		s    stun.Setter
	}{
		{"lifetime negative", Lifetime{-time.Second}},
		{"lifetime too long", Lifetime{(1 << 32) * time.Second}},
		{"data too large", Data(make([]byte, 1<<16))},
		{"password-algorithm params too large", PasswordAlgorithm{Algorithm: 1, Params: make([]byte, 1<<16)}},
		{"address-error-code 299", AddressErrorCode{Family: FamilyIPv6, Code: 299}},
		{"address-error-code 700", AddressErrorCode{Family: FamilyIPv6, Code: 700}},
		{"address-error-code reason too long", AddressErrorCode{Family: FamilyIPv6, Code: 440, Reason: string(make([]byte, 764))}},
		{"password-algorithms too large", PasswordAlgorithms{{Algorithm: 1, Params: make([]byte, 40000)}, {Algorithm: 2, Params: make([]byte, 40000)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.s.AddTo(stun.New()); !errors.Is(err, ErrOutOfRange) {
				t.Errorf("AddTo = %v, want ErrOutOfRange", err)
			}
		})
	}
}

func TestChannelNumberValid(t *testing.T) {
	tests := []struct {
		n    ChannelNumber
		want bool
	}{{0x3FFF, false}, {0x4000, true}, {0x4ABC, true}, {0x4FFF, true}, {0x5000, false}, {0x7FFF, false}, {0, false}}
	for _, tc := range tests {
		if got := tc.n.Valid(); got != tc.want {
			t.Errorf("ChannelNumber(%#x).Valid() = %v, want %v", uint16(tc.n), got, tc.want)
		}
	}
}

func TestDataGetFromAliasesRaw(t *testing.T) {
	m := build(t, Data("payload"))
	var d Data
	if err := d.GetFrom(m); err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(m.Raw, []byte("payload"))
	if i < 0 {
		t.Fatal("payload not in raw")
	}
	m.Raw[i] = 'P'
	if string(d) != "Payload" {
		t.Errorf("Data does not alias m.Raw: %q", d)
	}
	if allocs := testing.AllocsPerRun(100, func() { _ = d.GetFrom(m) }); allocs != 0 {
		t.Errorf("Data.GetFrom allocs = %v, want 0", allocs)
	}
}

func TestPasswordAlgorithmsContains(t *testing.T) {
	p := PasswordAlgorithms{{Algorithm: AlgSHA256}, {Algorithm: AlgMD5}}
	tests := []struct {
		a    PasswordAlgorithm
		want bool
	}{
		{PasswordAlgorithm{Algorithm: AlgMD5}, true},
		{PasswordAlgorithm{Algorithm: AlgSHA256}, true},
		{PasswordAlgorithm{Algorithm: AlgSHA256, Params: []byte{1}}, false},
		{PasswordAlgorithm{Algorithm: 3}, false},
	}
	for _, tc := range tests {
		if got := p.Contains(tc.a); got != tc.want {
			t.Errorf("Contains(%+v) = %v, want %v", tc.a, got, tc.want)
		}
	}
	if p.Equal(p[:1]) || !p.Equal(PasswordAlgorithms{{Algorithm: AlgSHA256}, {Algorithm: AlgMD5}}) || p.Equal(PasswordAlgorithms{{Algorithm: AlgMD5}, {Algorithm: AlgSHA256}}) {
		t.Error("Equal misjudges order or length")
	}
}

func TestAddressErrorCodeBadFamily(t *testing.T) {
	for _, fam := range []uint8{0, 3} {
		if err := (AddressErrorCode{Family: fam, Code: 440}).AddTo(stun.New()); !errors.Is(err, ErrBadFamily) {
			t.Errorf("AddTo with family %d = %v, want ErrBadFamily", fam, err)
		}
	}
	// The reserved bits between family and class are ignored on reception.
	m := withRaw(t, AttrAddressErrorCode, []byte{2, 0xFF, 0xFC, 8})
	var e AddressErrorCode
	if err := e.GetFrom(m); err != nil || e.Code != 408 || e.Family != FamilyIPv6 {
		t.Errorf("GetFrom with reserved bits set = %+v, %v; want 408 for IPv6", e, err)
	}
}
