package stunproto

import (
	"net/netip"

	"github.com/pion/stun/v3"
)

// XORAddress is an XOR-encoded transport address as used by
// XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS.
//
// RFC 8489 §14.2: the value is 1 reserved byte, the family (0x01 IPv4, 0x02
// IPv6), the port XOR-ed with the most significant 16 bits of the magic
// cookie, then the address XOR-ed with the magic cookie (IPv4) or with the
// magic cookie followed by the transaction ID (IPv6). The value is therefore
// 8 bytes for IPv4 and 20 bytes for IPv6; any other length is rejected.
//
// An IPv4-mapped IPv6 address is encoded as IPv4. Zones are dropped.
type XORAddress struct {
	Addr netip.AddrPort
}

// Value sizes of an XOR address (RFC 8489 §14.2).
const (
	xorAddrHeader = 4
	xorAddrSize4  = xorAddrHeader + 4
	xorAddrSize6  = xorAddrHeader + 16
)

// putXORAddress writes the XOR address value of ap into dst, which must hold
// at least xorAddrSize6 bytes, and returns the value's length. It does not
// allocate.
func putXORAddress(dst []byte, ap netip.AddrPort, txid *[stun.TransactionIDSize]byte) (int, error) {
	ip := ap.Addr().Unmap()
	if !ip.IsValid() {
		return 0, ErrBadAddress
	}
	dst[0] = 0
	be.PutUint16(dst[2:4], ap.Port()^uint16(magicCookie>>16))
	if ip.Is4() {
		dst[1] = FamilyIPv4
		a := ip.As4()
		be.PutUint32(dst[4:8], be.Uint32(a[:])^magicCookie)
		return xorAddrSize4, nil
	}
	dst[1] = FamilyIPv6
	a := ip.As16()
	be.PutUint32(dst[4:8], be.Uint32(a[:4])^magicCookie)
	for i := range txid {
		dst[8+i] = a[4+i] ^ txid[i]
	}
	return xorAddrSize6, nil
}

// parseXORAddress decodes an XOR address value. It does not allocate.
func parseXORAddress(v []byte, txid *[stun.TransactionIDSize]byte) (netip.AddrPort, error) {
	if len(v) < xorAddrHeader {
		return netip.AddrPort{}, ErrBadLength
	}
	port := be.Uint16(v[2:4]) ^ uint16(magicCookie>>16)
	switch v[1] {
	case FamilyIPv4:
		if len(v) != xorAddrSize4 {
			return netip.AddrPort{}, ErrBadLength
		}
		var a [4]byte
		be.PutUint32(a[:], be.Uint32(v[4:8])^magicCookie)
		return netip.AddrPortFrom(netip.AddrFrom4(a), port), nil
	case FamilyIPv6:
		if len(v) != xorAddrSize6 {
			return netip.AddrPort{}, ErrBadLength
		}
		var a [16]byte
		be.PutUint32(a[:4], be.Uint32(v[4:8])^magicCookie)
		for i := range txid {
			a[4+i] = v[8+i] ^ txid[i]
		}
		return netip.AddrPortFrom(netip.AddrFrom16(a), port), nil
	default:
		return netip.AddrPort{}, ErrBadFamily
	}
}

// AddToAs adds a as an attribute of type t to m.
func (a XORAddress) AddToAs(m *stun.Message, t stun.AttrType) error {
	var v [xorAddrSize6]byte
	n, err := putXORAddress(v[:], a.Addr, &m.TransactionID)
	if err != nil {
		return err
	}
	m.Add(t, v[:n])
	return nil
}

// GetFromAs decodes the first attribute of type t in m into a. It does not
// allocate.
func (a *XORAddress) GetFromAs(m *stun.Message, t stun.AttrType) error {
	v, err := m.Get(t)
	if err != nil {
		return err
	}
	ap, err := parseXORAddress(v, &m.TransactionID)
	if err != nil {
		return err
	}
	a.Addr = ap
	return nil
}

// XORPeerAddress is the XOR-PEER-ADDRESS attribute (RFC 8656 §18.3): a
// peer's transport address as seen from the server.
type XORPeerAddress XORAddress

// AddTo adds XOR-PEER-ADDRESS to m.
func (a XORPeerAddress) AddTo(m *stun.Message) error {
	return XORAddress(a).AddToAs(m, stun.AttrXORPeerAddress)
}

// GetFrom decodes the first XOR-PEER-ADDRESS of m. It does not allocate.
func (a *XORPeerAddress) GetFrom(m *stun.Message) error {
	return (*XORAddress)(a).GetFromAs(m, stun.AttrXORPeerAddress)
}

// XORRelayedAddress is the XOR-RELAYED-ADDRESS attribute (RFC 8656 §18.5):
// the relayed transport address the server allocated.
type XORRelayedAddress XORAddress

// AddTo adds XOR-RELAYED-ADDRESS to m.
func (a XORRelayedAddress) AddTo(m *stun.Message) error {
	return XORAddress(a).AddToAs(m, stun.AttrXORRelayedAddress)
}

// GetFrom decodes the first XOR-RELAYED-ADDRESS of m. It does not allocate.
func (a *XORRelayedAddress) GetFrom(m *stun.Message) error {
	return (*XORAddress)(a).GetFromAs(m, stun.AttrXORRelayedAddress)
}

// XORMappedAddress is the XOR-MAPPED-ADDRESS attribute (RFC 8489 §14.2): the
// client's server-reflexive transport address.
type XORMappedAddress XORAddress

// AddTo adds XOR-MAPPED-ADDRESS to m.
func (a XORMappedAddress) AddTo(m *stun.Message) error {
	return XORAddress(a).AddToAs(m, stun.AttrXORMappedAddress)
}

// GetFrom decodes the first XOR-MAPPED-ADDRESS of m. It does not allocate.
func (a *XORMappedAddress) GetFrom(m *stun.Message) error {
	return (*XORAddress)(a).GetFromAs(m, stun.AttrXORMappedAddress)
}
