package msturn

// Uint32 returns a 4-byte attribute as a number: LIFETIME (seconds),
// MS-VERSION, BANDWIDTH (kbit/s) ([MS-TURN] §2.2.2). It does not
// allocate.
func (m *Message) Uint32(t AttrType) (uint32, error) {
	v, err := m.Get(t)
	if err != nil {
		return 0, err
	}
	if len(v) != 4 {
		return 0, ErrMalformed
	}
	return be.Uint32(v), nil
}

// Address family values of REQUESTED-ADDRESS-FAMILY (0x0017), from
// MS-VERSION 4 on ([MS-TURN] §3.2.5.1).
const (
	FamilyIPv4 byte = familyIPv4
	FamilyIPv6 byte = familyIPv6
)

// RequestedFamily returns REQUESTED-ADDRESS-FAMILY: a family byte followed
// by three reserved bytes, as in RFC 6156 §4.1.1, FamilyIPv4 or
// FamilyIPv6.
func (m *Message) RequestedFamily() (byte, error) {
	v, err := m.Get(AttrRequestedAddressFamily)
	if err != nil {
		return 0, err
	}
	if len(v) != 4 || (v[0] != FamilyIPv4 && v[0] != FamilyIPv6) {
		return 0, ErrMalformed
	}
	return v[0], nil
}
