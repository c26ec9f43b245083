package config

import (
	"crypto/hmac"
	"crypto/sha256"
)

// nonceKeyLabel is the HMAC message that derives the nonce key from the
// first secret.
const nonceKeyLabel = "avedge nonce key v1"

// deriveNonceKey returns HMAC-SHA256(secret, "avedge nonce key v1"): the
// nonce key when none is configured. Nodes that share their first secret
// share it; rotating the first secret makes outstanding nonces stale.
func deriveNonceKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(nonceKeyLabel))
	return m.Sum(nil)
}
