package stunproto

import (
	"math"

	"github.com/pion/stun/v3"
)

// PasswordAlgorithms is the PASSWORD-ALGORITHMS attribute: the algorithms a
// server supports, in order of preference.
//
// RFC 8489 §14.11: the value is a list of entries, each a 16-bit algorithm
// number, a 16-bit parameters length and the parameters padded to a multiple
// of 4 bytes. After GetFrom, the entries' Params alias m.Raw.
type PasswordAlgorithms []PasswordAlgorithm

// Equal reports whether p and q list the same entries in the same order.
func (p PasswordAlgorithms) Equal(q PasswordAlgorithms) bool {
	if len(p) != len(q) {
		return false
	}
	for i := range p {
		if !p[i].Equal(q[i]) {
			return false
		}
	}
	return true
}

// Contains reports whether a is one of the entries of p.
func (p PasswordAlgorithms) Contains(a PasswordAlgorithm) bool {
	for _, e := range p {
		if e.Equal(a) {
			return true
		}
	}
	return false
}

// AddTo adds PASSWORD-ALGORITHMS to m.
func (p PasswordAlgorithms) AddTo(m *stun.Message) error {
	var v []byte
	for _, a := range p {
		var err error
		if v, err = a.appendTo(v); err != nil {
			return err
		}
	}
	if len(v) > math.MaxUint16 {
		return ErrOutOfRange
	}
	m.Add(stun.AttrPasswordAlgorithms, v)
	return nil
}

// GetFrom decodes PASSWORD-ALGORITHMS from m, reusing p's storage. An empty
// list or a truncated entry is ErrBadLength.
func (p *PasswordAlgorithms) GetFrom(m *stun.Message) error {
	v, err := m.Get(stun.AttrPasswordAlgorithms)
	if err != nil {
		return err
	}
	if len(v) == 0 {
		return ErrBadLength
	}
	list := (*p)[:0]
	for len(v) > 0 {
		var a PasswordAlgorithm
		if a, v, err = parsePasswordAlgorithm(v); err != nil {
			return err
		}
		list = append(list, a)
	}
	*p = list
	return nil
}
