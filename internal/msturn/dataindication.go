package msturn

import "net/netip"

// DataIndicationHeadroom is the most room BuildDataIndication needs in
// front of the data: a frame header, the message header, MAGIC-COOKIE,
// an IPv6 REMOTE-ADDRESS and the DATA attribute's header.
const DataIndicationHeadroom = FrameHeaderSize + MinSize + attrHeaderSize + addrSize6 + attrHeaderSize

// BuildDataIndication turns the n bytes of data at buf[off:] into a Data
// Indication (0x0115) from peer in place, writing the message in front of
// them: MAGIC-COOKIE, REMOTE-ADDRESS (not XORed) and DATA, unpadded and
// unsigned ([MS-TURN] §2.2.1; clients check no integrity on indications).
// With framed, a control frame header goes first, for a TCP client. It
// returns the message, which ends with the data, or ErrShortBuffer when
// buf lacks the room in front (see DataIndicationHeadroom) or the data is
// too long for one message. It does not allocate.
func BuildDataIndication(buf []byte, off, n int, peer netip.AddrPort, id TxID, framed bool) ([]byte, error) {
	if off < 0 || n < 0 || off > len(buf) || n > len(buf)-off {
		return nil, ErrShortBuffer
	}
	var addr [addrSize6]byte
	alen := putAddress(addr[:], peer, nil)
	head := MinSize + attrHeaderSize + alen + attrHeaderSize
	frame := 0
	if framed {
		frame = FrameHeaderSize
	}
	if off < frame+head || head-HeaderSize+n > MaxFrame || head+n > MaxFrame {
		return nil, ErrShortBuffer
	}
	msg := buf[off-head-frame : off+n]
	if framed {
		PutFrameHeader(msg, FrameControl, head+n)
	}
	p := msg[frame:]
	be.PutUint16(p[0:2], uint16(DataIndication))
	be.PutUint16(p[2:4], uint16(head-HeaderSize+n))
	copy(p[4:HeaderSize], id[:])
	p = p[HeaderSize:]
	be.PutUint16(p[0:2], uint16(AttrMagicCookie))
	be.PutUint16(p[2:4], 4)
	be.PutUint32(p[4:8], Cookie)
	p = p[cookieAttrSize:]
	be.PutUint16(p[0:2], uint16(AttrRemoteAddress))
	be.PutUint16(p[2:4], uint16(alen))
	copy(p[attrHeaderSize:], addr[:alen])
	p = p[attrHeaderSize+alen:]
	be.PutUint16(p[0:2], uint16(AttrData))
	be.PutUint16(p[2:4], uint16(n))
	return msg, nil
}
