package stunproto

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/pion/stun/v3"
)

var testKey = []byte("0123456789abcdef")

func TestMessageIntegritySHA256RoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		setters []stun.Setter
	}{
		{"alone", []stun.Setter{stun.NewUsername("user"), NewMessageIntegritySHA256(testKey)}},
		{"then fingerprint", []stun.Setter{stun.NewUsername("user"), NewMessageIntegritySHA256(testKey), stun.Fingerprint}},
		{"after message-integrity", []stun.Setter{stun.NewUsername("user"), stun.MessageIntegrity(testKey), NewMessageIntegritySHA256(testKey), stun.Fingerprint}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := build(t, tc.setters...)
			if err := NewMessageIntegritySHA256(testKey).Check(m); err != nil {
				t.Fatalf("Check: %v", err)
			}
			if m.Contains(stun.AttrFingerprint) {
				if err := stun.Fingerprint.Check(m); err != nil {
					t.Errorf("fingerprint: %v", err)
				}
			}
			if m.Contains(stun.AttrMessageIntegrity) {
				if err := stun.MessageIntegrity(testKey).Check(m); err != nil {
					t.Errorf("message-integrity: %v", err)
				}
			}
			if err := NewMessageIntegritySHA256([]byte("wrong")).Check(m); !errors.Is(err, ErrIntegrityMismatch) {
				t.Errorf("wrong key: %v, want ErrIntegrityMismatch", err)
			}
			tampered := decode(t, m.Raw)
			tampered.Raw[HeaderSize+attrHeaderSize] ^= 1 // first username byte
			if err := NewMessageIntegritySHA256(testKey).Check(tampered); !errors.Is(err, ErrIntegrityMismatch) {
				t.Errorf("tampered: %v, want ErrIntegrityMismatch", err)
			}
		})
	}
}

// truncated builds a message whose MESSAGE-INTEGRITY-SHA256 is the first n
// bytes of the HMAC, computed as RFC 8489 §14.6 specifies for truncation:
// the header length covers the truncated attribute.
func truncated(t *testing.T, n int) *stun.Message {
	t.Helper()
	m := stun.MustBuild(stun.BindingRequest, stun.NewTransactionIDSetter(testTxID), stun.NewUsername("user"))
	body := append([]byte(nil), m.Raw...)
	be.PutUint16(body[2:4], uint16(int(m.Length)+attrHeaderSize+n))
	mac := hmac.New(sha256.New, testKey)
	mac.Write(body)
	m.Add(stun.AttrMessageIntegritySHA256, mac.Sum(nil)[:n])
	return decode(t, m.Raw)
}

func TestMessageIntegritySHA256Truncated(t *testing.T) {
	tests := []struct {
		n   int
		err error
	}{
		{16, nil}, {20, nil}, {24, nil}, {28, nil}, {32, nil},
		{12, ErrBadLength}, {18, ErrBadLength}, {4, ErrBadLength},
	}
	for _, tc := range tests {
		if err := NewMessageIntegritySHA256(testKey).Check(truncated(t, tc.n)); !errors.Is(err, tc.err) {
			t.Errorf("truncated to %d: %v, want %v", tc.n, err, tc.err)
		}
	}
}

func TestMessageIntegritySHA256Errors(t *testing.T) {
	if err := NewMessageIntegritySHA256(testKey).Check(build(t, stun.NewUsername("u"))); !errors.Is(err, stun.ErrAttributeNotFound) {
		t.Errorf("absent: %v", err)
	}
	if err := NewMessageIntegritySHA256(testKey).Check(&stun.Message{Raw: []byte{0, 1}}); !errors.Is(err, ErrMalformed) {
		t.Errorf("short raw: %v", err)
	}
	m := build(t, stun.NewUsername("u"), NewMessageIntegritySHA256(testKey))
	cut := &stun.Message{Raw: m.Raw[:len(m.Raw)-4]}
	if err := NewMessageIntegritySHA256(testKey).Check(cut); !errors.Is(err, ErrMalformed) {
		t.Errorf("length beyond raw: %v", err)
	}
	bad := &stun.Message{Raw: append([]byte(nil), m.Raw...)}
	be.PutUint16(bad.Raw[HeaderSize+2:], 0xFFF0) // username length overruns
	if err := NewMessageIntegritySHA256(testKey).Check(bad); !errors.Is(err, ErrMalformed) {
		t.Errorf("attribute overrun: %v", err)
	}
	if err := NewMessageIntegritySHA256(testKey).AddTo(&stun.Message{Length: 8}); !errors.Is(err, ErrMalformed) {
		t.Errorf("AddTo on inconsistent message: %v", err)
	}
	fp := stun.MustBuild(stun.BindingRequest, stun.TransactionID, stun.Fingerprint)
	if err := NewMessageIntegritySHA256(testKey).AddTo(fp); !errors.Is(err, ErrFingerprintBeforeIntegrity) {
		t.Errorf("AddTo after FINGERPRINT: %v", err)
	}
}
