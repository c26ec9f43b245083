package bench

import "encoding/binary"

// payloadHeader is the size of the header that starts every media payload:
// the 4-byte big-endian call id (first, as the bare forwarder expects), the
// 8-byte sequence number and the 8-byte monotonic send time in nanoseconds
// since the run's start.
const payloadHeader = 20

// putPayload writes the payload header into b, which holds at least
// payloadHeader bytes.
func putPayload(b []byte, call uint32, seq uint64, sentNS int64) {
	binary.BigEndian.PutUint32(b[0:4], call)
	binary.BigEndian.PutUint64(b[4:12], seq)
	binary.BigEndian.PutUint64(b[12:20], uint64(sentNS))
}

// parsePayload reads the payload header of b; ok is false when b is too
// short.
func parsePayload(b []byte) (call uint32, seq uint64, sentNS int64, ok bool) {
	if len(b) < payloadHeader {
		return 0, 0, 0, false
	}
	return binary.BigEndian.Uint32(b[0:4]), binary.BigEndian.Uint64(b[4:12]),
		int64(binary.BigEndian.Uint64(b[12:20])), true
}
