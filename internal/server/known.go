package server

import "github.com/pion/stun/v3"

// The comprehension-required attributes each kind of message may carry.
// Anything else in the range 0x0000–0x7FFF is answered with 420 (requests)
// or causes the message to be discarded (indications). DONT-FRAGMENT is
// known: the relay sets DF when asked (RFC 8656 §7.2 step 4, §11.2), so it is
// not the unknown attribute a server that cannot set DF makes of it.
func knownBinding(t stun.AttrType) bool {
	switch t {
	case stun.AttrUsername, stun.AttrMessageIntegrity, stun.AttrMessageIntegritySHA256,
		stun.AttrRealm, stun.AttrNonce, stun.AttrPriority, stun.AttrUseCandidate:
		return true
	}
	return false
}

func knownTURN(t stun.AttrType) bool {
	switch t {
	case stun.AttrUsername, stun.AttrMessageIntegrity, stun.AttrMessageIntegritySHA256,
		stun.AttrRealm, stun.AttrNonce, stun.AttrPasswordAlgorithm,
		stun.AttrRequestedTransport, stun.AttrLifetime, stun.AttrXORPeerAddress,
		stun.AttrChannelNumber, stun.AttrEvenPort, stun.AttrReservationToken,
		stun.AttrRequestedAddressFamily, stun.AttrDontFragment, stun.AttrConnectionID:
		return true
	}
	return false
}

func knownSend(t stun.AttrType) bool {
	return t == stun.AttrXORPeerAddress || t == stun.AttrData || t == stun.AttrDontFragment
}
