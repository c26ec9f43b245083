package stunproto

import "errors"

// Sentinel errors returned by this package. Compare with errors.Is.
var (
	// ErrBadLength means an attribute value has a length its definition forbids.
	ErrBadLength = errors.New("stunproto: attribute value has invalid length")
	// ErrBadFamily means an address family field holds an unknown value.
	ErrBadFamily = errors.New("stunproto: unknown address family")
	// ErrBadAddress means an address to encode is not a valid IPv4 or IPv6 address.
	ErrBadAddress = errors.New("stunproto: invalid address")
	// ErrOutOfRange means a value does not fit its wire field.
	ErrOutOfRange = errors.New("stunproto: value out of range")
	// ErrMalformed means a STUN message's framing is inconsistent.
	ErrMalformed = errors.New("stunproto: malformed STUN message")
	// ErrFingerprintBeforeIntegrity means an integrity attribute was to be
	// added after FINGERPRINT, which must be last.
	ErrFingerprintBeforeIntegrity = errors.New("stunproto: FINGERPRINT precedes integrity attribute")
	// ErrIntegrityMismatch means a MESSAGE-INTEGRITY-SHA256 value does not
	// match the one computed with the given key.
	ErrIntegrityMismatch = errors.New("stunproto: MESSAGE-INTEGRITY-SHA256 mismatch")
	// ErrShortChannelData means a ChannelData message is shorter than its header.
	ErrShortChannelData = errors.New("stunproto: ChannelData shorter than its header")
	// ErrChannelDataLength means a ChannelData length field disagrees with the
	// datagram: it claims more bytes than there are, or more than 3 bytes of
	// padding follow the data.
	ErrChannelDataLength = errors.New("stunproto: ChannelData length does not match datagram")
	// ErrInvalidChannel means a channel number lies outside 0x4000-0x7FFF.
	ErrInvalidChannel = errors.New("stunproto: channel number outside 0x4000-0x7FFF")
	// ErrShortBuffer means a buffer lacks the headroom or tailroom an in-place
	// builder needs.
	ErrShortBuffer = errors.New("stunproto: buffer lacks headroom or tailroom")
)
