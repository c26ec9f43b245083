package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"strings"
	"time"

	"github.com/avedge/avedge/internal/clock"
)

// Nonce layout. RFC 8489 §9.2: a server supporting the RFC starts the NONCE
// value with the "nonce cookie": "obMatJos2" and the 4-character base64
// encoding of the 24-bit STUN Security Features set (§18.1). We set only the
// "Password algorithms" feature, bit 0, since every challenge carries
// PASSWORD-ALGORITHMS. Bit 0 is the least significant bit of the set, as
// the RFC 8489 errata and its Appendix B.1 example ("AAAC" for username
// anonymity, bit 1) have it, giving "AAAB"; the RFC's original text numbers
// from the most significant bit.
//
// After the cookie comes base64url (unpadded) of the issue time (Unix
// seconds, 8 bytes big-endian) and the first 16 bytes of
// HMAC-SHA256(key, time || client IPv6-form address (16 bytes) || port),
// 45 characters in all, far below the 763-byte limit of RFC 8489 §14.10.
const (
	nonceCookie                = "obMatJos2"
	featurePasswordAlgorithms  = 0x000001
	nonceCookieWithFeatures    = nonceCookie + "AAAB"
	nonceTimeSize              = 8
	nonceMACSize               = 16
	nonceBodySize              = nonceTimeSize + nonceMACSize
	nonceCookieFeaturesEncoded = 4
)

// DefaultNonceLifetime is the nonce lifetime NewNonces uses when given none.
const DefaultNonceLifetime = 10 * time.Minute

// maxNonceSkew is how far in the future a genuine nonce's issue time may lie,
// to tolerate clock differences between the nodes of a pool.
const maxNonceSkew = time.Minute

// Nonces issues and verifies stateless nonces bound to a client transport
// address. Every node of a pool that shares the key accepts the nonces of
// the others. It is safe for concurrent use.
type Nonces struct {
	key      []byte
	lifetime time.Duration
	clk      clock.Clock
	// macs holds keyed HMAC-SHA256 states for reuse: every challenge and
	// every authenticated request computes one, and a fresh one costs
	// about 0.5 KiB of garbage.
	macs macPool
}

// NewNonces returns a nonce issuer/verifier keyed with key (which should be
// at least 32 random bytes shared by the pool; it is copied). A lifetime <= 0
// means DefaultNonceLifetime; a nil clk means clock.Real{}.
func NewNonces(key []byte, lifetime time.Duration, clk clock.Clock) *Nonces {
	if lifetime <= 0 {
		lifetime = DefaultNonceLifetime
	}
	if clk == nil {
		clk = clock.Real{}
	}
	n := &Nonces{key: append([]byte(nil), key...), lifetime: lifetime, clk: clk}
	n.macs = newMACPool(sha256.New, n.key)
	return n
}

// Issue returns a fresh nonce for client. Within one second the same client
// gets the same nonce; different clients always get different ones, as RFC
// 8489 §9.2.4 requires.
func (n *Nonces) Issue(client netip.AddrPort) string {
	var body [nonceBodySize]byte
	binary.BigEndian.PutUint64(body[:nonceTimeSize], uint64(n.clk.Now().Unix()))
	n.mac(body[nonceTimeSize:], body[:nonceTimeSize], client)
	return nonceCookieWithFeatures + base64.RawURLEncoding.EncodeToString(body[:])
}

// Verify checks that nonce was issued by this pool to client. It returns
// ErrStaleNonce for a genuine nonce older than the lifetime and ErrBadNonce
// for anything else that is not a current nonce of client: malformed, forged,
// issued to another transport address, or dated too far in the future. The
// MAC comparison is constant-time.
func (n *Nonces) Verify(nonce string, client netip.AddrPort) error {
	enc, ok := strings.CutPrefix(nonce, nonceCookieWithFeatures)
	if !ok || len(enc) != base64.RawURLEncoding.EncodedLen(nonceBodySize) {
		return ErrBadNonce
	}
	var body [nonceBodySize]byte
	if _, err := base64.RawURLEncoding.Decode(body[:], []byte(enc)); err != nil {
		return ErrBadNonce
	}
	var want [nonceMACSize]byte
	n.mac(want[:], body[:nonceTimeSize], client)
	if !hmac.Equal(want[:], body[nonceTimeSize:]) {
		return ErrBadNonce
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(body[:nonceTimeSize])), 0)
	now := n.clk.Now()
	if issued.After(now.Add(maxNonceSkew)) {
		return ErrBadNonce
	}
	if now.Sub(issued) > n.lifetime {
		return ErrStaleNonce
	}
	return nil
}

// mac writes the truncated HMAC of the issue time and client into dst.
func (n *Nonces) mac(dst, ts []byte, client netip.AddrPort) {
	h := n.macs.get()
	defer n.macs.put(h)
	h.Write(ts)
	addr := client.Addr().Unmap().As16()
	h.Write(addr[:])
	var port [2]byte
	binary.BigEndian.PutUint16(port[:], client.Port())
	h.Write(port[:])
	var sum [sha256.Size]byte
	copy(dst, h.Sum(sum[:0])[:nonceMACSize])
}

// noncePasswordAlgorithms reports whether nonce starts with a nonce cookie
// whose "Password algorithms" feature bit is set (RFC 8489 §9.2.4).
func noncePasswordAlgorithms(nonce string) bool {
	rest, ok := strings.CutPrefix(nonce, nonceCookie)
	if !ok || len(rest) < nonceCookieFeaturesEncoded {
		return false
	}
	var f [3]byte
	if _, err := base64.StdEncoding.Decode(f[:], []byte(rest[:nonceCookieFeaturesEncoded])); err != nil {
		return false
	}
	return (uint32(f[0])<<16|uint32(f[1])<<8|uint32(f[2]))&featurePasswordAlgorithms != 0
}
