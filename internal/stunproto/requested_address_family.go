package stunproto

import "github.com/pion/stun/v3"

// Address family values used by REQUESTED-ADDRESS-FAMILY,
// ADDITIONAL-ADDRESS-FAMILY, ADDRESS-ERROR-CODE and the address attributes
// (RFC 8489 §14.1, RFC 8656 §18.6).
const (
	// FamilyIPv4 is the IPv4 address family.
	FamilyIPv4 uint8 = 0x01
	// FamilyIPv6 is the IPv6 address family.
	FamilyIPv6 uint8 = 0x02
)

// RequestedAddressFamily is the REQUESTED-ADDRESS-FAMILY attribute.
//
// RFC 8656 §18.6 (formerly RFC 6156 §4.1.1): used in Allocate and Refresh
// requests to name the address family the client wants. The 4-byte value is
// the family (0x01 IPv4, 0x02 IPv6, as in RFC 8489 §14.1) followed by 24
// reserved bits that the client sets to zero and the server ignores.
type RequestedAddressFamily uint8

// addressFamilySize is the value size of REQUESTED-ADDRESS-FAMILY and
// ADDITIONAL-ADDRESS-FAMILY.
const addressFamilySize = 4

// AddTo adds REQUESTED-ADDRESS-FAMILY to m.
func (f RequestedAddressFamily) AddTo(m *stun.Message) error {
	addFamily(m, stun.AttrRequestedAddressFamily, uint8(f))
	return nil
}

// GetFrom decodes REQUESTED-ADDRESS-FAMILY from m. A family other than
// FamilyIPv4 or FamilyIPv6 is stored in f and reported as ErrBadFamily, so
// that the server can answer 440 (Address Family not Supported) as RFC 8656
// §7.2 asks, distinct from ErrBadLength (400).
func (f *RequestedAddressFamily) GetFrom(m *stun.Message) error {
	v, err := getFamily(m, stun.AttrRequestedAddressFamily)
	*f = RequestedAddressFamily(v)
	return err
}

// addFamily adds an address family attribute of type t with family v.
func addFamily(m *stun.Message, t stun.AttrType, v uint8) {
	b := [addressFamilySize]byte{v}
	m.Add(t, b[:])
}

// getFamily decodes an address family attribute of type t. The family byte
// of a well-sized value is returned even when it is unknown (ErrBadFamily).
func getFamily(m *stun.Message, t stun.AttrType) (uint8, error) {
	v, err := m.Get(t)
	if err != nil {
		return 0, err
	}
	if len(v) != addressFamilySize {
		return 0, ErrBadLength
	}
	if v[0] != FamilyIPv4 && v[0] != FamilyIPv6 {
		return v[0], ErrBadFamily
	}
	return v[0], nil
}
