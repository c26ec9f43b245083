package stunproto

import "github.com/pion/stun/v3"

// ChannelNumber is the CHANNEL-NUMBER attribute.
//
// RFC 8656 §18.1: a 4-byte value, the 16-bit channel number followed by two
// RFFU bytes that are zero on transmission and ignored on reception.
//
// AddTo and GetFrom do not check the range, so that a handler can answer an
// out-of-range number with 400 and tests can send one; use Valid.
type ChannelNumber uint16

const channelNumberSize = 4

// Valid reports whether n lies in the range RFC 8656 §12 allows for
// channels, 0x4000 through 0x4FFF.
func (n ChannelNumber) Valid() bool { return n >= MinChannel && n <= MaxChannel }

// AddTo adds CHANNEL-NUMBER to m.
func (n ChannelNumber) AddTo(m *stun.Message) error {
	var v [channelNumberSize]byte
	be.PutUint16(v[:], uint16(n))
	m.Add(stun.AttrChannelNumber, v[:])
	return nil
}

// GetFrom decodes CHANNEL-NUMBER from m.
func (n *ChannelNumber) GetFrom(m *stun.Message) error {
	v, err := m.Get(stun.AttrChannelNumber)
	if err != nil {
		return err
	}
	if len(v) != channelNumberSize {
		return ErrBadLength
	}
	*n = ChannelNumber(be.Uint16(v))
	return nil
}
