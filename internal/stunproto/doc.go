// Package stunproto holds the STUN/TURN wire helpers avedge needs on top of
// github.com/pion/stun/v3: the TURN attributes (RFC 8656, RFC 6156) and the
// RFC 8489 security attributes pion lacks, XOR addresses in net/netip form,
// ChannelData framing, a cheap packet classifier and an in-place Data
// indication builder for the relay's hot path.
//
// Every attribute type implements pion's stun.Setter (AddTo) and stun.Getter
// (GetFrom). Getters return stun.ErrAttributeNotFound when the attribute is
// absent and one of this package's sentinel errors when it is malformed; they
// never panic on hostile input. Functions documented as allocation-free are
// used per packet and return unwrapped sentinel errors so that even their
// failure paths do not allocate.
//
// The package opens no sockets.
package stunproto
