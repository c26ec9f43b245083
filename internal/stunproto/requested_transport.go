package stunproto

import "github.com/pion/stun/v3"

// IANA protocol numbers carried in REQUESTED-TRANSPORT.
const (
	// ProtoUDP asks for a UDP relayed transport address (RFC 8656 §18.8).
	ProtoUDP uint8 = 17
	// ProtoTCP asks for a TCP relayed transport address (RFC 6062 §6.1).
	ProtoTCP uint8 = 6
)

// RequestedTransport is the REQUESTED-TRANSPORT attribute.
//
// RFC 8656 §18.8: the client asks for the transport protocol of the relayed
// transport address. The value is 4 bytes: the IANA protocol number, then 3
// RFFU bytes that are zero on transmission and ignored on reception. Any
// protocol number decodes; the server answers 442 for ones it does not
// support.
type RequestedTransport struct {
	Protocol uint8
}

const requestedTransportSize = 4

// AddTo adds REQUESTED-TRANSPORT to m.
func (t RequestedTransport) AddTo(m *stun.Message) error {
	v := [requestedTransportSize]byte{t.Protocol}
	m.Add(stun.AttrRequestedTransport, v[:])
	return nil
}

// GetFrom decodes REQUESTED-TRANSPORT from m.
func (t *RequestedTransport) GetFrom(m *stun.Message) error {
	v, err := m.Get(stun.AttrRequestedTransport)
	if err != nil {
		return err
	}
	if len(v) != requestedTransportSize {
		return ErrBadLength
	}
	t.Protocol = v[0]
	return nil
}
