package stunproto

import (
	"encoding/binary"

	"github.com/pion/stun/v3"
)

// ConnectionID is the CONNECTION-ID attribute.
//
// RFC 6062 §6.2.1: "The CONNECTION-ID attribute uniquely identifies a peer
// data connection. It is a 32-bit unsigned integral value." A Connect
// success response and a ConnectionAttempt indication carry it, and a
// ConnectionBind request names with it the peer data connection to join.
type ConnectionID uint32

// AddTo adds CONNECTION-ID to m.
func (id ConnectionID) AddTo(m *stun.Message) error {
	var v [4]byte
	binary.BigEndian.PutUint32(v[:], uint32(id))
	m.Add(stun.AttrConnectionID, v[:])
	return nil
}

// GetFrom decodes CONNECTION-ID from m.
func (id *ConnectionID) GetFrom(m *stun.Message) error {
	v, err := m.Get(stun.AttrConnectionID)
	if err != nil {
		return err
	}
	if len(v) != 4 {
		return ErrBadLength
	}
	*id = ConnectionID(binary.BigEndian.Uint32(v))
	return nil
}
