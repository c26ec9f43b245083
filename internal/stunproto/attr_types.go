package stunproto

import "github.com/pion/stun/v3"

// Attribute types of RFC 8656 that pion/stun does not name. Both lie in the
// comprehension-optional range (RFC 8489 §18.3.1), so a server that does not
// know them ignores them.
const (
	// AttrAdditionalAddressFamily is ADDITIONAL-ADDRESS-FAMILY (RFC 8656
	// §18.11).
	AttrAdditionalAddressFamily stun.AttrType = 0x8000
	// AttrAddressErrorCode is ADDRESS-ERROR-CODE (RFC 8656 §18.12).
	AttrAddressErrorCode stun.AttrType = 0x8001
)
