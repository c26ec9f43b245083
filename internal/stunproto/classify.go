package stunproto

// Kind is the protocol a datagram on a TURN client port belongs to.
type Kind uint8

// Datagram kinds returned by Classify.
const (
	// KindInvalid is neither well-framed STUN nor ChannelData: drop it.
	KindInvalid Kind = iota
	// KindSTUN is a datagram framed like a STUN message.
	KindSTUN
	// KindChannelData is a datagram whose first bits are 01.
	KindChannelData
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindSTUN:
		return "stun"
	case KindChannelData:
		return "channeldata"
	default:
		return "invalid"
	}
}

// Classify sorts a datagram cheaply, without allocating, so that garbage is
// dropped before any parsing. KindSTUN means: the first two bits are 00
// (RFC 8489 §6), the magic cookie is present, and the header length field is
// a multiple of 4 equal to len(b)-20 (RFC 8489 §5). KindChannelData means
// IsChannelData(b); ParseChannelData still validates the rest.
func Classify(b []byte) Kind {
	if IsChannelData(b) {
		return KindChannelData
	}
	if len(b) < HeaderSize || b[0]&0xC0 != 0 || be.Uint32(b[4:8]) != magicCookie {
		return KindInvalid
	}
	n := int(be.Uint16(b[2:4]))
	if n%4 != 0 || n != len(b)-HeaderSize {
		return KindInvalid
	}
	return KindSTUN
}
