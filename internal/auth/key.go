package auth

import (
	"crypto/md5"
	"crypto/sha256"

	"github.com/avedge/avedge/internal/stunproto"
)

// Key derives the long-term credential key of RFC 8489 §9.2.2:
// MD5(username ":" realm ":" password) for stunproto.AlgMD5 (16 bytes) and,
// per §18.5.1.2, SHA-256 of the same string for stunproto.AlgSHA256 (32
// bytes). It returns nil for any other algorithm. The OpaqueString profile
// is not applied (see the package documentation).
func Key(alg uint16, username, realm, password string) []byte {
	s := []byte(username + ":" + realm + ":" + password)
	switch alg {
	case stunproto.AlgMD5:
		k := md5.Sum(s)
		return k[:]
	case stunproto.AlgSHA256:
		k := sha256.Sum256(s)
		return k[:]
	default:
		return nil
	}
}
