package stunproto

import (
	"bytes"
	"math"

	"github.com/pion/stun/v3"
)

// Password algorithm numbers from the "STUN Password Algorithms" registry
// (RFC 8489 §18.5). Neither takes parameters (RFC 8489 §18.5.1).
const (
	// AlgMD5 derives the long-term key with MD5 (16-byte key).
	AlgMD5 uint16 = 0x0001
	// AlgSHA256 derives the long-term key with SHA-256 (32-byte key).
	AlgSHA256 uint16 = 0x0002
)

// PasswordAlgorithm is the PASSWORD-ALGORITHM attribute, and one entry of
// PASSWORD-ALGORITHMS.
//
// RFC 8489 §14.12: the value is a 16-bit algorithm number, a 16-bit
// parameters length, then the parameters, padded to a multiple of 4 bytes.
// After GetFrom, Params aliases m.Raw.
type PasswordAlgorithm struct {
	Algorithm uint16
	Params    []byte
}

// Equal reports whether a and b name the same algorithm with the same
// parameters.
func (a PasswordAlgorithm) Equal(b PasswordAlgorithm) bool {
	return a.Algorithm == b.Algorithm && bytes.Equal(a.Params, b.Params)
}

// appendTo appends the wire form of a (with parameter padding) to dst.
func (a PasswordAlgorithm) appendTo(dst []byte) ([]byte, error) {
	if len(a.Params) > math.MaxUint16-attrHeaderSize {
		return dst, ErrOutOfRange
	}
	dst = be.AppendUint16(dst, a.Algorithm)
	dst = be.AppendUint16(dst, uint16(len(a.Params)))
	dst = append(dst, a.Params...)
	for range padded(len(a.Params)) - len(a.Params) {
		dst = append(dst, 0)
	}
	return dst, nil
}

// parsePasswordAlgorithm decodes one entry from the start of v and returns
// the bytes after it (after the parameters' padding, when present).
func parsePasswordAlgorithm(v []byte) (PasswordAlgorithm, []byte, error) {
	if len(v) < attrHeaderSize {
		return PasswordAlgorithm{}, nil, ErrBadLength
	}
	n := int(be.Uint16(v[2:4]))
	rest := v[attrHeaderSize:]
	if len(rest) < n {
		return PasswordAlgorithm{}, nil, ErrBadLength
	}
	a := PasswordAlgorithm{Algorithm: be.Uint16(v[0:2]), Params: rest[:n:n]}
	rest = rest[n:]
	if pad := padded(n) - n; len(rest) >= pad {
		rest = rest[pad:]
	} else {
		rest = rest[len(rest):]
	}
	return a, rest, nil
}

// AddTo adds PASSWORD-ALGORITHM to m.
func (a PasswordAlgorithm) AddTo(m *stun.Message) error {
	var buf [attrHeaderSize + 4]byte
	v, err := a.appendTo(buf[:0])
	if err != nil {
		return err
	}
	m.Add(stun.AttrPasswordAlgorithm, v)
	return nil
}

// GetFrom decodes PASSWORD-ALGORITHM from m. The value must hold exactly one
// entry (its parameter padding may be present or not).
func (a *PasswordAlgorithm) GetFrom(m *stun.Message) error {
	v, err := m.Get(stun.AttrPasswordAlgorithm)
	if err != nil {
		return err
	}
	got, rest, err := parsePasswordAlgorithm(v)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return ErrBadLength
	}
	*a = got
	return nil
}
