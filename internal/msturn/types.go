package msturn

// Type is a message type ([MS-TURN] §2.2.1). Classes are not encoded in
// RFC 5389 bits: 0x0115 is a Data Indication, not an error response, so
// types are compared whole.
type Type uint16

// The message types of the dialect ([MS-TURN] §2.2.1). A Send request is
// never answered, and there is no Refresh: an Allocate on the same 5-tuple
// refreshes.
const (
	AllocateRequest       Type = 0x0003
	AllocateResponse      Type = 0x0103
	AllocateError         Type = 0x0113
	SendRequest           Type = 0x0004
	DataIndication        Type = 0x0115
	SetActiveDestination  Type = 0x0006
	SetActiveDestResponse Type = 0x0106
	SetActiveDestError    Type = 0x0116
)

// AttrType is an attribute type ([MS-TURN] §2.2.2).
type AttrType uint16

// Attribute types of the dialect ([MS-TURN] §2.2.2 and [MS-TURNBWM]).
// Types below 0x8000 are comprehension-required: a request with one the
// server does not know is answered 420 (Unknown Attribute).
const (
	AttrMappedAddress          AttrType = 0x0001
	AttrUsername               AttrType = 0x0006
	AttrMessageIntegrity       AttrType = 0x0008
	AttrErrorCode              AttrType = 0x0009
	AttrUnknownAttributes      AttrType = 0x000A
	AttrLifetime               AttrType = 0x000D
	AttrAlternateServer        AttrType = 0x000E
	AttrMagicCookie            AttrType = 0x000F
	AttrBandwidth              AttrType = 0x0010
	AttrDestinationAddress     AttrType = 0x0011
	AttrRemoteAddress          AttrType = 0x0012
	AttrData                   AttrType = 0x0013
	AttrNonce                  AttrType = 0x0014
	AttrRealm                  AttrType = 0x0015
	AttrRequestedAddressFamily AttrType = 0x0017
	AttrMSVersion              AttrType = 0x8008
	AttrXORMappedAddress       AttrType = 0x8020
	AttrMSSequenceNumber       AttrType = 0x8050
	AttrMSServiceQuality       AttrType = 0x8055
)

// Known reports whether t is a comprehension-required attribute of the
// dialect; optional ones (0x8000 and up: MS-VERSION, MS-SERVICE-QUALITY,
// the bandwidth management attributes of [MS-TURNBWM], ...) are ignored
// when unknown ([MS-TURN] §2.2.2).
func (t AttrType) Known() bool {
	switch t {
	case AttrMappedAddress, AttrUsername, AttrMessageIntegrity, AttrErrorCode, AttrUnknownAttributes,
		AttrLifetime, AttrAlternateServer, AttrMagicCookie, AttrBandwidth, AttrDestinationAddress,
		AttrRemoteAddress, AttrData, AttrNonce, AttrRealm, AttrRequestedAddressFamily:
		return true
	}
	return t >= 0x8000
}
