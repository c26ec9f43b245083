package msturn

// ConnIDSize is the size of MS-SEQUENCE-NUMBER's connection ID.
const ConnIDSize = 20

// sequenceSize is the value size of MS-SEQUENCE-NUMBER.
const sequenceSize = ConnIDSize + 4

// Sequence is MS-SEQUENCE-NUMBER (0x8050, [MS-TURN] §2.2.2.21): a
// connection ID the server chose for the allocation and a sequence
// number. The server sends it in the Allocate response; the client then
// numbers its Send and Set Active Destination requests with it, so that
// a retransmission (the same number) is answered from cache and an older
// number is refused.
type Sequence struct {
	ConnID [ConnIDSize]byte
	Number uint32
}

// Sequence returns m's MS-SEQUENCE-NUMBER. It does not allocate.
func (m *Message) Sequence() (Sequence, error) {
	v, err := m.Get(AttrMSSequenceNumber)
	if err != nil {
		return Sequence{}, err
	}
	if len(v) != sequenceSize {
		return Sequence{}, ErrMalformed
	}
	var s Sequence
	copy(s.ConnID[:], v)
	s.Number = be.Uint32(v[ConnIDSize:])
	return s, nil
}
