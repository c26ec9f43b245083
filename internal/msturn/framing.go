package msturn

// The TCP framing of [MS-TURN] §2.1.4: every TURN message and every chunk
// of end-to-end data on a TCP connection to the server follows a 4-byte
// header of a type, a reserved zero byte and the big-endian length of
// what follows. There is no padding.
const (
	// FrameHeaderSize is the size of the framing header.
	FrameHeaderSize = 4
	// FrameControl frames a TURN message.
	FrameControl byte = 0x02
	// FrameData frames end-to-end data, to or from the active destination
	// (see Set Active Destination).
	FrameData byte = 0x03
	// MaxFrame is the largest length a framing header can carry.
	MaxFrame = 0xFFFF
)

// ParseFrameHeader returns the type and length of the frame header at the
// start of b; ok is false when b is shorter than a header. A type other
// than FrameControl and FrameData, or a nonzero reserved byte, is
// ErrMalformed: the stream cannot be resynchronised after it.
func ParseFrameHeader(b []byte) (typ byte, n int, ok bool, err error) {
	if len(b) < FrameHeaderSize {
		return 0, 0, false, nil
	}
	if (b[0] != FrameControl && b[0] != FrameData) || b[1] != 0 {
		return 0, 0, false, ErrMalformed
	}
	return b[0], int(be.Uint16(b[2:4])), true, nil
}

// PutFrameHeader writes a framing header of typ for n bytes of payload
// into b[:FrameHeaderSize]. n must not exceed MaxFrame.
func PutFrameHeader(b []byte, typ byte, n int) {
	b[0], b[1] = typ, 0
	be.PutUint16(b[2:4], uint16(n))
}
