package stunproto

import (
	"net/netip"

	"github.com/pion/stun/v3"
)

// PeerAddresses appends to dst every XOR-PEER-ADDRESS of m, in message order,
// and returns the extended slice. A CreatePermission request may carry
// several (RFC 8656 §10.1). It fails with stun.ErrAttributeNotFound when there
// is none and with ErrBadLength or ErrBadFamily on the first malformed one;
// dst is returned unextended on error. With enough capacity in dst it does
// not allocate.
func PeerAddresses(m *stun.Message, dst []netip.AddrPort) ([]netip.AddrPort, error) {
	return xorAddresses(m, stun.AttrXORPeerAddress, dst)
}

// xorAddresses appends to dst every XOR address attribute of type t in m.
func xorAddresses(m *stun.Message, t stun.AttrType, dst []netip.AddrPort) ([]netip.AddrPort, error) {
	start := len(dst)
	for _, a := range m.Attributes {
		if a.Type != t {
			continue
		}
		ap, err := parseXORAddress(a.Value, &m.TransactionID)
		if err != nil {
			return dst[:start], err
		}
		dst = append(dst, ap)
	}
	if len(dst) == start {
		return dst, stun.ErrAttributeNotFound
	}
	return dst, nil
}
