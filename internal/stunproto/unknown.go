package stunproto

import (
	"slices"

	"github.com/pion/stun/v3"
)

// MaxUnknownAttributes bounds how many types UnknownComprehensionRequired
// reports: enough for any honest client, and it keeps both the work per
// message and the size of a 420 answer small whatever a sender packs in.
const MaxUnknownAttributes = 16

// UnknownComprehensionRequired appends to dst, once each and in message
// order, the comprehension-required attribute types (0x0000-0x7FFF) in m for
// which known returns false, at most MaxUnknownAttributes of them, and
// returns the extended slice. A non-empty result calls for a 420 (Unknown
// Attribute) response listing them in UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1.1,
// §14.9).
func UnknownComprehensionRequired(m *stun.Message, known func(stun.AttrType) bool, dst []stun.AttrType) []stun.AttrType {
	start := len(dst)
	for _, a := range m.Attributes {
		if len(dst)-start == MaxUnknownAttributes {
			break
		}
		if !a.Type.Required() || known(a.Type) || slices.Contains(dst[start:], a.Type) {
			continue
		}
		dst = append(dst, a.Type)
	}
	return dst
}
