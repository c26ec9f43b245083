package msturn

import "encoding/binary"

var be = binary.BigEndian

const (
	// HeaderSize is the size of the message header: type, length and a
	// 16-byte transaction ID ([MS-TURN] §2.2.1).
	HeaderSize = 20
	// attrHeaderSize is the type and length in front of each value.
	attrHeaderSize = 4
	// Cookie is the value of the MAGIC-COOKIE attribute, which opens
	// every message of the dialect ([MS-TURN] §2.2.2.8).
	Cookie uint32 = 0x72C64BC6
	// cookieAttrSize is the MAGIC-COOKIE attribute with its header.
	cookieAttrSize = attrHeaderSize + 4
	// MinSize is the smallest message: a header and MAGIC-COOKIE.
	MinSize = HeaderSize + cookieAttrSize
	// maxMessage is the largest message Decode takes: attribute offsets
	// are kept in 16 bits, and neither a UDP datagram nor a TCP frame
	// carries more.
	maxMessage = 0xFFFF
	// MaxAttributes is how many attributes a Message holds; a message
	// with more is refused (ErrTooManyAttributes). The dialect's largest
	// requests carry about a dozen.
	MaxAttributes = 32
)

// TxIDSize is the size of a transaction ID.
const TxIDSize = 16

// TxID is a transaction ID: all 16 bytes after the type and length.
type TxID [TxIDSize]byte

// Is reports whether b is an MS-TURN message: first two bits zero, a
// length field that counts exactly the bytes after the header (at most
// 65,535 bytes in all), and
// MAGIC-COOKIE as the first attribute ([MS-TURN] §3.1.10). An RFC 5389
// message cannot pass: its bytes 20–27 would have to be an attribute of
// type 0x000F, which RFC STUN does not assign. It does not allocate.
func Is(b []byte) bool {
	return len(b) >= MinSize && len(b) <= maxMessage && b[0]&0xC0 == 0 &&
		int(be.Uint16(b[2:4])) == len(b)-HeaderSize &&
		be.Uint16(b[20:22]) == uint16(AttrMagicCookie) && be.Uint16(b[22:24]) == 4 &&
		be.Uint32(b[24:28]) == Cookie
}

// attr locates one attribute value in Message.Raw.
type attr struct {
	t        AttrType
	off, len uint16
}

// Message is a decoded MS-TURN message. Its attribute values alias Raw:
// keep Raw unchanged while the Message is in use. The zero value is ready
// for Decode; a Message may be reused.
type Message struct {
	Type  Type
	TxID  TxID
	Raw   []byte
	attrs [MaxAttributes]attr
	n     int
	// mi is the offset of the MESSAGE-INTEGRITY attribute's header, or 0.
	mi int
}

// Decode parses b into m; m.Raw aliases b. Attributes are unpadded: each
// follows the previous value directly. Attributes after MESSAGE-INTEGRITY
// are ignored, as RFC 8489 §14.5 directs for the attributes that follow
// it. It does not allocate.
func (m *Message) Decode(b []byte) error {
	m.n, m.mi, m.Raw = 0, 0, nil
	if !Is(b) {
		return ErrNotMSTURN
	}
	m.Raw = b
	m.Type = Type(be.Uint16(b[0:2]))
	copy(m.TxID[:], b[4:HeaderSize])
	for p := HeaderSize; p < len(b); {
		if len(b)-p < attrHeaderSize {
			return ErrTruncated
		}
		t, n := AttrType(be.Uint16(b[p:])), int(be.Uint16(b[p+2:]))
		if n > len(b)-p-attrHeaderSize {
			return ErrTruncated
		}
		if m.n == MaxAttributes {
			return ErrTooManyAttributes
		}
		m.attrs[m.n] = attr{t: t, off: uint16(p + attrHeaderSize), len: uint16(n)}
		m.n++
		if t == AttrMessageIntegrity {
			m.mi = p
			break
		}
		p += attrHeaderSize + n
	}
	return nil
}

// Get returns the value of the first attribute of type t, aliasing Raw.
func (m *Message) Get(t AttrType) ([]byte, error) {
	for _, a := range m.attrs[:m.n] {
		if a.t == t {
			return m.Raw[a.off : a.off+a.len], nil
		}
	}
	return nil, ErrNotFound
}

// Contains reports whether m carries an attribute of type t.
func (m *Message) Contains(t AttrType) bool {
	_, err := m.Get(t)
	return err == nil
}

// Unknown appends to dst the comprehension-required attribute types of m
// that the dialect does not define (answered with 420 and
// UNKNOWN-ATTRIBUTES, [MS-TURN] §2.2.2) and returns it.
func (m *Message) Unknown(dst []AttrType) []AttrType {
	for _, a := range m.attrs[:m.n] {
		if !a.t.Known() {
			dst = append(dst, a.t)
		}
	}
	return dst
}
