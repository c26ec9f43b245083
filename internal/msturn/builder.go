package msturn

import "net/netip"

// Builder writes a message into a caller's buffer, attribute by
// attribute, unpadded, keeping the header's length field current. It does
// not allocate while the buffer has room; when it runs out, Err reports
// ErrShortBuffer and the message is not to be sent.
type Builder struct {
	b     []byte
	start int
	id    TxID
	err   error
}

// Start begins a message of type t with transaction ID id after the
// len(dst) bytes already in dst (a frame header, say), within dst's
// capacity, and adds MAGIC-COOKIE, the first attribute of every message.
func (w *Builder) Start(dst []byte, t Type, id TxID) {
	w.b, w.start, w.id, w.err = dst, len(dst), id, nil
	if cap(dst)-len(dst) < MinSize {
		w.err = ErrShortBuffer
		return
	}
	w.b = w.b[:w.start+HeaderSize]
	h := w.b[w.start:]
	be.PutUint16(h[0:2], uint16(t))
	be.PutUint16(h[2:4], 0)
	copy(h[4:], id[:])
	w.AddUint32(AttrMagicCookie, Cookie)
}

// grow appends an attribute header for t with an n-byte value and returns
// the value's bytes, or nil when the buffer is full.
func (w *Builder) grow(t AttrType, n int) []byte {
	if w.err != nil {
		return nil
	}
	size := len(w.b) - w.start + attrHeaderSize + n
	if n > 0xFFFF || size-HeaderSize > 0xFFFF || cap(w.b)-len(w.b) < attrHeaderSize+n {
		w.err = ErrShortBuffer
		return nil
	}
	p := len(w.b)
	w.b = w.b[:p+attrHeaderSize+n]
	be.PutUint16(w.b[p:], uint16(t))
	be.PutUint16(w.b[p+2:], uint16(n))
	be.PutUint16(w.b[w.start+2:], uint16(size-HeaderSize))
	return w.b[p+attrHeaderSize:]
}

// Add adds an attribute with value v.
func (w *Builder) Add(t AttrType, v []byte) {
	if d := w.grow(t, len(v)); d != nil {
		copy(d, v)
	}
}

// AddString adds an attribute whose value is s.
func (w *Builder) AddString(t AttrType, s string) {
	if d := w.grow(t, len(s)); d != nil {
		copy(d, s)
	}
}

// AddUint32 adds a 4-byte number attribute.
func (w *Builder) AddUint32(t AttrType, v uint32) {
	if d := w.grow(t, 4); d != nil {
		be.PutUint32(d, v)
	}
}

// AddAddress adds a plain address attribute (MAPPED-ADDRESS,
// REMOTE-ADDRESS, DESTINATION-ADDRESS, ALTERNATE-SERVER).
func (w *Builder) AddAddress(t AttrType, a netip.AddrPort) {
	var v [addrSize6]byte
	n := putAddress(v[:], a, nil)
	w.Add(t, v[:n])
}

// AddXORMappedAddress adds XOR-MAPPED-ADDRESS (0x8020), XORed with the
// message's transaction ID.
func (w *Builder) AddXORMappedAddress(a netip.AddrPort) {
	var v [addrSize6]byte
	n := putAddress(v[:], a, &w.id)
	w.Add(AttrXORMappedAddress, v[:n])
}

// AddSequence adds MS-SEQUENCE-NUMBER.
func (w *Builder) AddSequence(s Sequence) {
	if d := w.grow(AttrMSSequenceNumber, sequenceSize); d != nil {
		copy(d, s.ConnID[:])
		be.PutUint32(d[ConnIDSize:], s.Number)
	}
}

// AddErrorCode adds ERROR-CODE with code (300–699) and reason.
func (w *Builder) AddErrorCode(code int, reason string) {
	if d := w.grow(AttrErrorCode, 4+len(reason)); d != nil {
		d[0], d[1], d[2], d[3] = 0, 0, byte(code/100), byte(code%100)
		copy(d[4:], reason)
	}
}

// AddUnknown adds UNKNOWN-ATTRIBUTES listing types.
func (w *Builder) AddUnknown(types []AttrType) {
	if d := w.grow(AttrUnknownAttributes, 2*len(types)); d != nil {
		for i, t := range types {
			be.PutUint16(d[2*i:], uint16(t))
		}
	}
}

// Sign adds MESSAGE-INTEGRITY computed with i; add it last.
func (w *Builder) Sign(i *Integrity) {
	at := len(w.b) - w.start
	if d := w.grow(AttrMessageIntegrity, i.Size()); d != nil {
		copy(d, i.mac(w.b[w.start:], at))
	}
}

// Err reports whether the buffer was too small for the message.
func (w *Builder) Err() error { return w.err }

// Bytes returns the buffer: what was in dst before Start, then the
// message.
func (w *Builder) Bytes() []byte { return w.b }

// Message returns the message alone.
func (w *Builder) Message() []byte { return w.b[w.start:] }
