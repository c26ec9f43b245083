package policy

import "errors"

// ErrDenied is returned by PeerPolicy.Check for a peer address the policy
// refuses; the server answers such a request with 403 (Forbidden), as
// RFC 8656 §7.2 and §9.1 permit for peer addresses it will not relay to.
var ErrDenied = errors.New("policy: peer address denied")

// ErrBandwidth is returned by NewBandwidth for a rate or burst out of range.
var ErrBandwidth = errors.New("policy: bandwidth out of range")
