package stunproto

import "github.com/pion/stun/v3"

// DontFragment is the DONT-FRAGMENT attribute.
//
// RFC 8656 §18.9: the client asks the server to set the DF bit on datagrams
// relayed to peers. The attribute has no value: its length field is 0.
type DontFragment struct{}

// AddTo adds an empty DONT-FRAGMENT to m.
func (DontFragment) AddTo(m *stun.Message) error {
	m.Add(stun.AttrDontFragment, nil)
	return nil
}

// GetFrom reports whether m carries a well-formed DONT-FRAGMENT: nil if so,
// stun.ErrAttributeNotFound if absent, ErrBadLength if it has a value.
func (DontFragment) GetFrom(m *stun.Message) error {
	v, err := m.Get(stun.AttrDontFragment)
	if err != nil {
		return err
	}
	if len(v) != 0 {
		return ErrBadLength
	}
	return nil
}
