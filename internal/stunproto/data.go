package stunproto

import (
	"math"

	"github.com/pion/stun/v3"
)

// Data is the DATA attribute.
//
// RFC 8656 §18.4: present in every Send indication and in Data indications
// (unless they carry ICMP); its variable-length value is the application
// data, that is, the payload of the UDP datagram.
type Data []byte

// AddTo adds DATA to m, copying the bytes.
func (d Data) AddTo(m *stun.Message) error {
	if len(d) > math.MaxUint16 {
		return ErrOutOfRange
	}
	m.Add(stun.AttrData, d)
	return nil
}

// GetFrom sets d to the DATA value of m without copying: d aliases m.Raw and
// is valid only as long as m.Raw is. It does not allocate.
func (d *Data) GetFrom(m *stun.Message) error {
	v, err := m.Get(stun.AttrData)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
