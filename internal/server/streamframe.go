package server

import (
	"encoding/binary"

	"github.com/avedge/avedge/internal/server/stream"
	"github.com/avedge/avedge/internal/stunproto"
)

// frameSize returns the size of the first frame of a TURN byte stream in b,
// or 0 when b does not hold its header yet. RFC 8656 §12.5 (and RFC 8489
// §6.2.2 for STUN): over TCP and TLS a message is either STUN (first two
// bits 00; a 20-byte header whose length field counts the attributes) or
// ChannelData (first two bits 01; a 4-byte header whose length field counts
// the application data, "padded to a multiple of four bytes" on streams).
// A frame larger than max is stream.ErrFrameTooLarge, any other first byte
// stream.ErrNotFramed: the stream cannot be resynchronised after either. The
// returned size may exceed len(b): the frame is complete once len(b)
// reaches it. It does not allocate.
func frameSize(b []byte, max int) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var size int
	switch b[0] >> 6 {
	case 0:
		if len(b) < 4 {
			return 0, nil
		}
		size = stunproto.HeaderSize + int(binary.BigEndian.Uint16(b[2:4]))
	case 1:
		if len(b) < stunproto.ChannelDataHeaderSize {
			return 0, nil
		}
		n := int(binary.BigEndian.Uint16(b[2:4]))
		size = stunproto.ChannelDataHeaderSize + n + stunproto.ChannelDataPadding(n)
	default:
		return 0, stream.ErrNotFramed
	}
	if size > max {
		return 0, stream.ErrFrameTooLarge
	}
	return size, nil
}
