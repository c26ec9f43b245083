package stunproto

import "github.com/pion/stun/v3"

// AttrAdditionalAddressFamily is ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.11),
// which pion/stun does not name.
const AttrAdditionalAddressFamily stun.AttrType = 0x8000
