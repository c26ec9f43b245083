package stats

// ChannelRange tells the channel numbers RFC 8656 allows (0x4000-0x4FFF)
// from those only RFC 5766 allowed (0x5000-0x7FFF), which older clients
// still bind.
type ChannelRange uint8

const (
	// ChannelRFC8656 is a number in 0x4000-0x4FFF.
	ChannelRFC8656 ChannelRange = iota
	// ChannelRFC5766 is a number in 0x5000-0x7FFF.
	ChannelRFC5766
	// NumChannelRanges is the number of ChannelRange values.
	NumChannelRanges
)

// RangeOf returns the range of channel number num (0x4000-0x7FFF).
func RangeOf(num uint16) ChannelRange {
	if num > 0x4FFF {
		return ChannelRFC5766
	}
	return ChannelRFC8656
}

// String returns the metric label of r.
func (r ChannelRange) String() string {
	if r == ChannelRFC5766 {
		return "rfc5766"
	}
	return "rfc8656"
}
