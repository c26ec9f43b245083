package stunproto

import (
	"math"
	"net/netip"

	"github.com/pion/stun/v3"
)

// Space BuildDataIndication needs around the payload.
const (
	// DataIndicationHeadroom is the most bytes BuildDataIndication writes in
	// front of the payload: the STUN header (20), an IPv6 XOR-PEER-ADDRESS
	// (4+20) and the DATA attribute header (4).
	DataIndicationHeadroom = HeaderSize + attrHeaderSize + xorAddrSize6 + attrHeaderSize
	// DataIndicationTailroom is the most padding bytes BuildDataIndication
	// writes after the payload. Indications carry no FINGERPRINT here.
	DataIndicationTailroom = 3
)

// dataIndicationType is the message type of a Data indication: method 0x007,
// class indication (RFC 8656 §11, RFC 8489 §5).
var dataIndicationType = stun.NewType(stun.MethodData, stun.ClassIndication).Value()

// BuildDataIndication turns the peer payload at buf[off:off+n] into a Data
// indication in place (RFC 8656 §11.3): it writes the STUN header with the
// given transaction ID, XOR-PEER-ADDRESS(peer) and the DATA attribute header
// in front of the payload, zero padding after it, and returns the message,
// a sub-slice of buf. It needs off >= 36 (IPv4 peer) or 48 (IPv6 peer), see
// DataIndicationHeadroom, and room for the padding after the payload;
// otherwise it returns ErrShortBuffer. A payload too large for the 16-bit
// length is ErrOutOfRange and an invalid peer is ErrBadAddress. It does not
// allocate.
func BuildDataIndication(buf []byte, off, n int, peer netip.AddrPort, txid [stun.TransactionIDSize]byte) ([]byte, error) {
	if off < 0 || n < 0 || off > len(buf) || n > len(buf)-off {
		return nil, ErrShortBuffer
	}
	var addr [xorAddrSize6]byte
	alen, err := putXORAddress(addr[:], peer, &txid)
	if err != nil {
		return nil, err
	}
	head := HeaderSize + attrHeaderSize + alen + attrHeaderSize
	pad := padded(n) - n
	bodyLen := head - HeaderSize + n + pad
	if bodyLen > math.MaxUint16 {
		return nil, ErrOutOfRange
	}
	if off < head || pad > len(buf)-off-n {
		return nil, ErrShortBuffer
	}
	msg := buf[off-head : off+n+pad]
	be.PutUint16(msg[0:2], dataIndicationType)
	be.PutUint16(msg[2:4], uint16(bodyLen))
	be.PutUint32(msg[4:8], magicCookie)
	copy(msg[8:HeaderSize], txid[:])
	p := msg[HeaderSize:]
	be.PutUint16(p[0:2], uint16(stun.AttrXORPeerAddress))
	be.PutUint16(p[2:4], uint16(alen))
	copy(p[attrHeaderSize:], addr[:alen])
	p = p[attrHeaderSize+alen:]
	be.PutUint16(p[0:2], uint16(stun.AttrData))
	be.PutUint16(p[2:4], uint16(n))
	clear(msg[head+n:])
	return msg, nil
}
