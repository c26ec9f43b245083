package stunproto

import (
	"crypto/hmac"
	"crypto/sha256"

	"github.com/pion/stun/v3"
)

// MessageIntegritySHA256 is the MESSAGE-INTEGRITY-SHA256 attribute, holding
// the HMAC key (the long-term key of RFC 8489 §9.2.2 or a short-term
// password).
//
// RFC 8489 §14.6: the value is an HMAC-SHA256 of the STUN message up to, but
// excluding, this attribute, computed with the header's length field
// adjusted to point to the end of this attribute, "as for
// MESSAGE-INTEGRITY". The value is 32 bytes when sent by this package; a
// receiver accepts values truncated to 16..32 bytes in multiples of 4, the
// range §14.6 allows. Only FINGERPRINT may follow it.
type MessageIntegritySHA256 []byte

// NewMessageIntegritySHA256 returns the attribute for key. The key is not
// copied.
func NewMessageIntegritySHA256(key []byte) MessageIntegritySHA256 {
	return MessageIntegritySHA256(key)
}

// Truncation bounds of RFC 8489 §14.6.
const (
	minIntegritySHA256Size = 16
	maxIntegritySHA256Size = sha256.Size
)

// AddTo appends MESSAGE-INTEGRITY-SHA256 (32 bytes) to m. It must be called
// after every other attribute except FINGERPRINT; if m already carries
// FINGERPRINT it fails with ErrFingerprintBeforeIntegrity, and if m.Raw is
// shorter than m.Length says, with ErrMalformed.
func (i MessageIntegritySHA256) AddTo(m *stun.Message) error {
	for _, a := range m.Attributes {
		if a.Type == stun.AttrFingerprint {
			return ErrFingerprintBeforeIntegrity
		}
	}
	if len(m.Raw) < HeaderSize+int(m.Length) {
		return ErrMalformed
	}
	body := m.Raw[:HeaderSize+int(m.Length)]
	var hdr [HeaderSize]byte
	copy(hdr[:], body)
	be.PutUint16(hdr[2:4], uint16(int(m.Length)+attrHeaderSize+sha256.Size))
	var sum [sha256.Size]byte
	mac := hmac.New(sha256.New, i)
	mac.Write(hdr[:])
	mac.Write(body[HeaderSize:])
	m.Add(stun.AttrMessageIntegritySHA256, mac.Sum(sum[:0]))
	return nil
}

// Check verifies the first MESSAGE-INTEGRITY-SHA256 of m with the key, in
// constant time. It walks m.Raw itself, so it neither depends on how m was
// decoded nor modifies m. Errors: stun.ErrAttributeNotFound if absent,
// ErrBadLength for a value outside 16..32 bytes or not a multiple of 4,
// ErrMalformed for inconsistent framing, ErrIntegrityMismatch otherwise.
func (i MessageIntegritySHA256) Check(m *stun.Message) error {
	raw := m.Raw
	if len(raw) < HeaderSize {
		return ErrMalformed
	}
	end := HeaderSize + int(be.Uint16(raw[2:4]))
	if end > len(raw) {
		return ErrMalformed
	}
	for off := HeaderSize; off+attrHeaderSize <= end; {
		t := stun.AttrType(be.Uint16(raw[off:]))
		n := int(be.Uint16(raw[off+2:]))
		val := off + attrHeaderSize
		next := val + padded(n)
		if next > end {
			return ErrMalformed
		}
		if t != stun.AttrMessageIntegritySHA256 {
			off = next
			continue
		}
		if n < minIntegritySHA256Size || n > maxIntegritySHA256Size || n%4 != 0 {
			return ErrBadLength
		}
		var hdr [HeaderSize]byte
		copy(hdr[:], raw)
		be.PutUint16(hdr[2:4], uint16(next-HeaderSize))
		var sum [sha256.Size]byte
		mac := hmac.New(sha256.New, i)
		mac.Write(hdr[:])
		mac.Write(raw[HeaderSize:off])
		if !hmac.Equal(mac.Sum(sum[:0])[:n], raw[val:val+n]) {
			return ErrIntegrityMismatch
		}
		return nil
	}
	return stun.ErrAttributeNotFound
}
