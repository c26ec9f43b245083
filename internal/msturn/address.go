package msturn

import "net/netip"

// Address families of the address attributes ([MS-TURN] §2.2.2.1).
const (
	familyIPv4 = 0x01
	familyIPv6 = 0x02
)

const (
	addrSize4 = 8  // reserved, family, port, IPv4 address
	addrSize6 = 20 // reserved, family, port, IPv6 address
)

// Address returns the transport address in the attribute t, one of the
// plain (not XORed) address attributes: MAPPED-ADDRESS,
// DESTINATION-ADDRESS, REMOTE-ADDRESS or ALTERNATE-SERVER ([MS-TURN]
// §2.2.2.1): a reserved byte, the family (1 IPv4, 2 IPv6), the port and
// the address. It does not allocate.
func (m *Message) Address(t AttrType) (netip.AddrPort, error) {
	v, err := m.Get(t)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return parseAddress(v, nil)
}

// XORMappedAddress returns XOR-MAPPED-ADDRESS (0x8020), whose port is XORed
// with the first two bytes of the transaction ID and whose address with
// its first four (IPv4) or all sixteen (IPv6) ([MS-TURN] §2.2.2.16).
func (m *Message) XORMappedAddress() (netip.AddrPort, error) {
	v, err := m.Get(AttrXORMappedAddress)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return parseAddress(v, &m.TxID)
}

// parseAddress decodes an address value, XORed with id when id is not nil.
func parseAddress(v []byte, id *TxID) (netip.AddrPort, error) {
	var x TxID
	if id != nil {
		x = *id
	}
	switch {
	case len(v) == addrSize4 && v[1] == familyIPv4:
		var a [4]byte
		for i := range a {
			a[i] = v[4+i] ^ x[i]
		}
		return netip.AddrPortFrom(netip.AddrFrom4(a), be.Uint16(v[2:4])^be.Uint16(x[0:2])), nil
	case len(v) == addrSize6 && v[1] == familyIPv6:
		var a [16]byte
		for i := range a {
			a[i] = v[4+i] ^ x[i]
		}
		return netip.AddrPortFrom(netip.AddrFrom16(a), be.Uint16(v[2:4])^be.Uint16(x[0:2])), nil
	}
	return netip.AddrPort{}, ErrMalformed
}

// putAddress writes the value of an address attribute for a into dst
// (at least addrSize6 bytes), XORed with id when id is not nil, and
// returns its size. An IPv4-mapped IPv6 address is written as IPv4.
func putAddress(dst []byte, a netip.AddrPort, id *TxID) int {
	var x TxID
	if id != nil {
		x = *id
	}
	ip := a.Addr().Unmap()
	dst[0] = 0
	be.PutUint16(dst[2:4], a.Port()^be.Uint16(x[0:2]))
	if ip.Is4() {
		dst[1] = familyIPv4
		b := ip.As4()
		for i := range b {
			dst[4+i] = b[i] ^ x[i]
		}
		return addrSize4
	}
	dst[1] = familyIPv6
	b := ip.As16()
	for i := range b {
		dst[4+i] = b[i] ^ x[i]
	}
	return addrSize6
}
