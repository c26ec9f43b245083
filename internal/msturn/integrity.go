package msturn

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"hash"
)

const (
	// sha1Size and sha256Size are the MESSAGE-INTEGRITY value sizes.
	sha1Size   = sha1.Size
	sha256Size = sha256.Size
	// padBlock: the text of the MAC is zero-padded to a multiple of 64
	// bytes (RFC 3489 §11.2.8, which [MS-TURN] inherits).
	padBlock = 64
)

var zeroPad [padBlock]byte

// Key returns the long-term key of HMAC-SHA1 MESSAGE-INTEGRITY:
// MD5(username ":" realm ":" password).
func Key(username, realm, password string) []byte {
	h := md5.New()
	h.Write([]byte(username))
	h.Write([]byte{':'})
	h.Write([]byte(realm))
	h.Write([]byte{':'})
	h.Write([]byte(password))
	return h.Sum(nil)
}

// KeySHA256 returns the key of HMAC-SHA256 MESSAGE-INTEGRITY (MS-VERSION 3
// and up): K = HMAC-SHA256(nonce, password), then, in the counter-mode
// form of NIST SP 800-108, HMAC-SHA256(K, 0x01 || "TURN" || 0x00 ||
// username || realm || 0x00000100).
func KeySHA256(username, realm, password, nonce string) []byte {
	k := hmac.New(sha256.New, []byte(nonce))
	k.Write([]byte(password))
	h := hmac.New(sha256.New, k.Sum(nil))
	h.Write([]byte{0x01, 'T', 'U', 'R', 'N', 0x00})
	h.Write([]byte(username))
	h.Write([]byte(realm))
	h.Write([]byte{0x00, 0x00, 0x01, 0x00})
	return h.Sum(nil)
}

// Integrity computes and checks MESSAGE-INTEGRITY with one key. It keeps
// its HMAC state, so that checking and signing do not allocate; it is
// not safe for concurrent use.
type Integrity struct {
	h    hash.Hash
	sum  [sha256Size]byte
	head [4]byte // scratch for the header: what escapes through h costs no allocation here
}

// NewIntegrity returns an Integrity for key: a 16-byte key (Key) means
// HMAC-SHA1, a 32-byte key (KeySHA256) HMAC-SHA256.
func NewIntegrity(key []byte) *Integrity {
	if len(key) == sha256Size {
		return &Integrity{h: hmac.New(sha256.New, key)}
	}
	return &Integrity{h: hmac.New(sha1.New, key)}
}

// Size is the size of the MESSAGE-INTEGRITY value i produces.
func (i *Integrity) Size() int { return i.h.Size() }

// mac computes the MAC of msg[:at], the message up to the integrity
// attribute, with the length field set to what it is once the attribute
// of i.Size() bytes ends the message, zero-padded to a multiple of 64.
func (i *Integrity) mac(msg []byte, at int) []byte {
	copy(i.head[:2], msg[:2])
	be.PutUint16(i.head[2:], uint16(at-HeaderSize+attrHeaderSize+i.Size()))
	i.h.Reset()
	i.h.Write(i.head[:])
	i.h.Write(msg[4:at])
	if r := at % padBlock; r != 0 {
		i.h.Write(zeroPad[:padBlock-r])
	}
	return i.h.Sum(i.sum[:0])
}

// Check verifies m's MESSAGE-INTEGRITY in constant time; ErrIntegrity
// when it is absent, of the other algorithm's size or wrong. It does not
// allocate.
func (i *Integrity) Check(m *Message) error {
	if m.mi == 0 {
		return ErrIntegrity
	}
	v := m.Raw[m.mi+attrHeaderSize : m.mi+attrHeaderSize+int(be.Uint16(m.Raw[m.mi+2:]))]
	if len(v) != i.Size() || !hmac.Equal(i.mac(m.Raw, m.mi), v) {
		return ErrIntegrity
	}
	return nil
}

// IntegritySize returns the size of m's MESSAGE-INTEGRITY value (20 for
// HMAC-SHA1, 32 for HMAC-SHA256), or 0 when it has none.
func (m *Message) IntegritySize() int {
	if m.mi == 0 {
		return 0
	}
	return int(be.Uint16(m.Raw[m.mi+2:]))
}
