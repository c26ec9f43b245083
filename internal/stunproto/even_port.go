package stunproto

import "github.com/pion/stun/v3"

// EvenPort is the EVEN-PORT attribute.
//
// RFC 8656 §18.7: the client asks for an even relayed port and, with the R
// bit (the most significant bit of the 1-byte value), for the next-higher
// port to be reserved. The other 7 bits are RFFU: zero on transmission,
// ignored on reception.
type EvenPort struct {
	ReservePort bool
}

const (
	evenPortSize = 1
	evenPortR    = 0x80
)

// AddTo adds EVEN-PORT to m.
func (p EvenPort) AddTo(m *stun.Message) error {
	var v [evenPortSize]byte
	if p.ReservePort {
		v[0] = evenPortR
	}
	m.Add(stun.AttrEvenPort, v[:])
	return nil
}

// GetFrom decodes EVEN-PORT from m.
func (p *EvenPort) GetFrom(m *stun.Message) error {
	v, err := m.Get(stun.AttrEvenPort)
	if err != nil {
		return err
	}
	if len(v) != evenPortSize {
		return ErrBadLength
	}
	p.ReservePort = v[0]&evenPortR != 0
	return nil
}
