package stunproto

import "github.com/pion/stun/v3"

// ReservationToken is the RESERVATION-TOKEN attribute.
//
// RFC 8656 §18.10: an 8-byte token that identifies a relayed transport
// address the server holds in reserve.
type ReservationToken [8]byte

// AddTo adds RESERVATION-TOKEN to m.
func (t ReservationToken) AddTo(m *stun.Message) error {
	m.Add(stun.AttrReservationToken, t[:])
	return nil
}

// GetFrom decodes RESERVATION-TOKEN from m.
func (t *ReservationToken) GetFrom(m *stun.Message) error {
	v, err := m.Get(stun.AttrReservationToken)
	if err != nil {
		return err
	}
	if len(v) != len(t) {
		return ErrBadLength
	}
	copy(t[:], v)
	return nil
}
