package stunproto

import "github.com/pion/stun/v3"

// AddressErrorCode is the ADDRESS-ERROR-CODE attribute.
//
// RFC 8656 §18.12: "used by servers to signal the reason for not allocating
// the requested address family". A server that can meet only half of a dual
// allocation request (ADDITIONAL-ADDRESS-FAMILY) answers with success, one
// XOR-RELAYED-ADDRESS, and this attribute naming the family it did not
// allocate with 440 (Address Family not Supported) or 508 (Insufficient
// Capacity) (RFC 8656 §7.2 step 9).
//
// The value is laid out like ERROR-CODE (RFC 8489 §14.8) with the family in
// the first byte: family (8 bits), 13 reserved bits (zero on transmission,
// ignored on reception), the class (the hundreds digit, 3 bits), the number
// (code modulo 100, 8 bits), then a UTF-8 reason phrase of fewer than 128
// characters (at most 763 bytes).
type AddressErrorCode struct {
	// Family is FamilyIPv4 or FamilyIPv6.
	Family uint8
	// Code is the error code, 300 to 699.
	Code stun.ErrorCode
	// Reason is the reason phrase; it may be empty.
	Reason string
}

const (
	addressErrorHeader  = 4
	maxReasonPhraseSize = 763
	minErrorCode        = 300
	maxErrorCode        = 699
)

// AddTo adds ADDRESS-ERROR-CODE to m. It returns ErrBadFamily for a family
// other than IPv4 or IPv6 and ErrOutOfRange for a code outside 300-699 or a
// reason phrase over 763 bytes.
func (e AddressErrorCode) AddTo(m *stun.Message) error {
	switch {
	case e.Family != FamilyIPv4 && e.Family != FamilyIPv6:
		return ErrBadFamily
	case e.Code < minErrorCode || e.Code > maxErrorCode || len(e.Reason) > maxReasonPhraseSize:
		return ErrOutOfRange
	}
	v := make([]byte, addressErrorHeader+len(e.Reason))
	v[0] = e.Family
	v[2] = byte(e.Code / 100)
	v[3] = byte(e.Code % 100)
	copy(v[addressErrorHeader:], e.Reason)
	m.Add(AttrAddressErrorCode, v)
	return nil
}

// GetFrom decodes ADDRESS-ERROR-CODE from m. A value shorter than 4 bytes or
// longer than 4+763 bytes is ErrBadLength; a class outside 3-6 or a number
// over 99 is ErrOutOfRange; an unknown family is stored in e and reported as
// ErrBadFamily.
func (e *AddressErrorCode) GetFrom(m *stun.Message) error {
	v, err := m.Get(AttrAddressErrorCode)
	if err != nil {
		return err
	}
	if len(v) < addressErrorHeader || len(v) > addressErrorHeader+maxReasonPhraseSize {
		return ErrBadLength
	}
	class, number := v[2]&0x07, v[3]
	if class < minErrorCode/100 || class > maxErrorCode/100 || number > 99 {
		return ErrOutOfRange
	}
	e.Family = v[0]
	e.Code = stun.ErrorCode(int(class)*100 + int(number))
	e.Reason = string(v[addressErrorHeader:])
	if e.Family != FamilyIPv4 && e.Family != FamilyIPv6 {
		return ErrBadFamily
	}
	return nil
}
