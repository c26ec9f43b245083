package stunproto

import "github.com/pion/stun/v3"

// AdditionalAddressFamily is the ADDITIONAL-ADDRESS-FAMILY attribute.
//
// RFC 8656 §18.11: a client asks for a dual allocation, one IPv4 and one
// IPv6 relayed transport address, by adding it to an Allocate request. It is
// encoded like REQUESTED-ADDRESS-FAMILY (§18.6): the family byte and 24
// reserved bits. "The attribute value of 0x02 (IPv6 address) is the only
// valid value in Allocate request"; RFC 8656 §7.2 step 9 answers 0x01 with a
// 400.
type AdditionalAddressFamily uint8

// AddTo adds ADDITIONAL-ADDRESS-FAMILY to m.
func (f AdditionalAddressFamily) AddTo(m *stun.Message) error {
	addFamily(m, AttrAdditionalAddressFamily, uint8(f))
	return nil
}

// GetFrom decodes ADDITIONAL-ADDRESS-FAMILY from m. As for
// REQUESTED-ADDRESS-FAMILY, an unknown family is stored in f and reported as
// ErrBadFamily, and a value that is not 4 bytes long as ErrBadLength.
func (f *AdditionalAddressFamily) GetFrom(m *stun.Message) error {
	v, err := getFamily(m, AttrAdditionalAddressFamily)
	*f = AdditionalAddressFamily(v)
	return err
}
