package stunproto

// ChannelData framing (RFC 8656 §12.4): a 4-byte header, the 16-bit channel
// number and the 16-bit length of the application data, then the data.
// Over UDP the data may be followed by padding to a multiple of 4 bytes;
// over TCP and TLS the padding is mandatory.
//
// RFC 8656 §12 splits the first-two-bits-01 space into the allowed channel
// numbers 0x4000-0x4FFF and a reserved range 0x5000 and up, which RFC 5766
// §11 allowed (0x4000-0x7FFF, MaxLegacyChannel). This package treats every
// packet whose first byte is 0x40-0x7F as ChannelData (it is never STUN, so
// IsChannelData and Classify say so) and parses any of those numbers: which
// numbers a client may bind is the allocation's rule, and the server drops
// ChannelData for channels that are not bound.
const (
	// MinChannel is the lowest valid channel number.
	MinChannel = 0x4000
	// MaxChannel is the highest channel number RFC 8656 allows.
	MaxChannel = 0x4FFF
	// MaxLegacyChannel is the highest channel number RFC 5766 allowed.
	MaxLegacyChannel = 0x7FFF
	// ChannelDataHeaderSize is the size of the ChannelData header.
	ChannelDataHeaderSize = 4
)

// maxChannelDataPadding is the most padding bytes a datagram may carry after
// the application data.
const maxChannelDataPadding = 3

// IsChannelData reports whether b is long enough for a ChannelData header and
// starts with the bits 01 (first byte 0x40-0x7F), the demultiplexing rule of
// RFC 8656 §12. It does not validate the channel number or length.
func IsChannelData(b []byte) bool {
	return len(b) >= ChannelDataHeaderSize && b[0]&0xC0 == 0x40
}

// ParseChannelData decodes a ChannelData datagram without copying: payload
// is a sub-slice of b. Up to 3 bytes of padding may follow the payload; more
// trailing bytes, or a length field beyond the datagram, are
// ErrChannelDataLength. b shorter than the header is ErrShortChannelData and
// a number outside MinChannel..MaxLegacyChannel is ErrInvalidChannel. It does not
// allocate.
func ParseChannelData(b []byte) (num uint16, payload []byte, err error) {
	if len(b) < ChannelDataHeaderSize {
		return 0, nil, ErrShortChannelData
	}
	num = be.Uint16(b[0:2])
	if num < MinChannel || num > MaxLegacyChannel {
		return 0, nil, ErrInvalidChannel
	}
	n := int(be.Uint16(b[2:4]))
	body := b[ChannelDataHeaderSize:]
	if n > len(body) || len(body)-n > maxChannelDataPadding {
		return 0, nil, ErrChannelDataLength
	}
	return num, body[:n:n], nil
}

// PutChannelDataHeader writes the 4-byte ChannelData header for channel num
// and a payload of length bytes into dst[:4]. The caller guarantees
// len(dst) >= ChannelDataHeaderSize and 0 <= length <= 0xFFFF; higher bits
// of length are dropped.
func PutChannelDataHeader(dst []byte, num uint16, length int) {
	_ = dst[ChannelDataHeaderSize-1]
	be.PutUint16(dst[0:2], num)
	be.PutUint16(dst[2:4], uint16(length))
}

// ChannelDataPadding returns the number of padding bytes (0-3) that follow n
// bytes of ChannelData payload to reach a multiple of 4, as stream transports
// require (RFC 8656 §12.5).
func ChannelDataPadding(n int) int { return padded(n) - n }
