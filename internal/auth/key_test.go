package auth

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

func TestKey(t *testing.T) {
	tests := []struct {
		name                      string
		alg                       uint16
		username, realm, password string
		want                      string
	}{
		// RFC 8489 §9.2.2 example.
		{"md5 rfc example", stunproto.AlgMD5, "user", "realm", "pass", "8493fbc53ba582fb4c044c456bdc40eb"},
		// SHA-256("user:realm:pass").
		{"sha256", stunproto.AlgSHA256, "user", "realm", "pass", "07e934117abd40836e7c6329b54731b2b2d2a5f9a71f544922d75e0730d8251b"},
		{"unknown algorithm", 0x0003, "user", "realm", "pass", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := hex.EncodeToString(Key(tc.alg, tc.username, tc.realm, tc.password)); got != tc.want {
				t.Errorf("Key = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestKeyRFCVectors checks Key against the long-term requests of RFC 5769
// §2.4 (MD5 key, MESSAGE-INTEGRITY) and RFC 8489 Appendix B.1 as corrected
// by its errata (SHA-256 key, MESSAGE-INTEGRITY-SHA256).
func TestKeyRFCVectors(t *testing.T) {
	const (
		username = "\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9"
		realm    = "example.org"
		password = "TheMatrIX"
	)
	rfc5769 := decodeHex(t, `
		00010060 2112a442 78ad3433 c6ad72c0 29da412e
		00060012 e3839ee3 8388e383 aae38383 e382afe3 82b90000
		0015001c 662f2f34 39396b39 35346436 4f4c3334 6f4c3946 53547679 36347341
		0014000b 6578616d 706c652e 6f726700
		00080014 f6702465 6dd64a3e 02b8e071 2e85c9a2 8ca89666`)
	if err := stun.MessageIntegrity(Key(stunproto.AlgMD5, username, realm, password)).Check(rfc5769); err != nil {
		t.Errorf("RFC 5769 §2.4: %v", err)
	}
	rfc8489 := decodeHex(t, `
		00010090 2112a442 78ad3433 c6ad72c0 29da412e
		001e0020 4a3cf38f ef6992bd a952c678 0417da0f 24819415 569e60b2 05c46e41 407f1704
		00150029 6f624d61 744a6f73 32414141 43662f2f 3439396b 39353464 364f4c33 346f4c39 46535476 79363473 41000000
		0014000b 6578616d 706c652e 6f726700
		001d0004 00020000
		001c0020 b5c7bf00 5b6c52a2 1c51c5e8 92f81924 136296cb 927c4314 9309278c c6518e65`)
	if err := stunproto.NewMessageIntegritySHA256(Key(stunproto.AlgSHA256, username, realm, password)).Check(rfc8489); err != nil {
		t.Errorf("RFC 8489 B.1: %v", err)
	}
}

func decodeHex(t *testing.T, s string) *stun.Message {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	m := new(stun.Message)
	if err := stun.Decode(b, m); err != nil {
		t.Fatal(err)
	}
	return m
}
