package stunproto

import "github.com/pion/stun/v3"

// Address family values used by REQUESTED-ADDRESS-FAMILY and the address
// attributes (RFC 8489 §14.1, RFC 8656 §18.6).
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

const requestedAddressFamilySize = 4

// AddTo adds REQUESTED-ADDRESS-FAMILY to m.
func (f RequestedAddressFamily) AddTo(m *stun.Message) error {
	v := [requestedAddressFamilySize]byte{byte(f)}
	m.Add(stun.AttrRequestedAddressFamily, v[:])
	return nil
}

// GetFrom decodes REQUESTED-ADDRESS-FAMILY from m. A family other than
// FamilyIPv4 or FamilyIPv6 is stored in f and reported as ErrBadFamily, so
// that the server can answer 440 (Address Family not Supported) as RFC 8656
// §7.2 asks, distinct from ErrBadLength (400).
func (f *RequestedAddressFamily) GetFrom(m *stun.Message) error {
	v, err := m.Get(stun.AttrRequestedAddressFamily)
	if err != nil {
		return err
	}
	if len(v) != requestedAddressFamilySize {
		return ErrBadLength
	}
	*f = RequestedAddressFamily(v[0])
	if v[0] != FamilyIPv4 && v[0] != FamilyIPv6 {
		return ErrBadFamily
	}
	return nil
}
