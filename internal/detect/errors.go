package detect

import "errors"

var (
	// ErrHostAddress is returned when the host does not have exactly one
	// address of the family that relay.address (or relay.address_v6) auto
	// can take.
	ErrHostAddress = errors.New("detect: no single host address")
	// ErrSTUN is returned when no STUN server answered, or when their
	// answers disagree.
	ErrSTUN = errors.New("detect: STUN")
	// ErrMetadata is returned when no cloud metadata service gave a public
	// address, or when they disagree.
	ErrMetadata = errors.New("detect: cloud metadata")
	// ErrPublicAddress wraps every failure to find relay.advertised.
	ErrPublicAddress = errors.New("detect: public address not found")
)
