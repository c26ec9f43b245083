package stunproto

import "encoding/binary"

// HeaderSize is the size of a STUN message header (RFC 8489 §5).
const HeaderSize = 20

// Wire constants shared by the codecs (RFC 8489 §5, §14).
const (
	attrHeaderSize = 4
	magicCookie    = 0x2112A442
)

// padded returns n rounded up to a multiple of 4, the STUN attribute
// alignment (RFC 8489 §14).
func padded(n int) int { return (n + 3) &^ 3 }

// be is the network byte order.
var be = binary.BigEndian
