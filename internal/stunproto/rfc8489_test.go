package stunproto

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/pion/stun/v3"
)

// rfc8489B1Published is RFC 8489 Appendix B.1 as printed. Its header length
// (0x9c) disagrees with its 136 bytes of attributes and it lacks the
// PASSWORD-ALGORITHM its key needs. The RFC errata (erratum 6268) correct
// it to rfc8489B1, whose MAC we recompute below.
const rfc8489B1Published = `
	00 01 00 9c  21 12 a4 42  78 ad 34 33  c6 ad 72 c0  29 da 41 2e
	00 1e 00 20  4a 3c f3 8f  ef 69 92 bd  a9 52 c6 78  04 17 da 0f  24 81 94 15  56 9e 60 b2  05 c4 6e 41  40 7f 17 04
	00 15 00 29  6f 62 4d 61  74 4a 6f 73  32 41 41 41  43 66 2f 2f  34 39 39 6b  39 35 34 64  36 4f 4c 33
	             34 6f 4c 39  46 53 54 76  79 36 34 73  41 00 00 00
	00 14 00 0b  65 78 61 6d  70 6c 65 2e  6f 72 67 00
	00 1c 00 20  e4 68 6c 8f  0e de b5 90  13 e0 70 90  01 0a 93 ef  cc bc cc 54  4c 0a 45 d9  f8 30 aa 6d  6f 73 5a 01`

// rfc8489B1 is RFC 8489 Appendix B.1 as corrected by the errata: USERHASH,
// NONCE (with a nonce cookie), REALM, PASSWORD-ALGORITHM (SHA-256) and
// MESSAGE-INTEGRITY-SHA256 keyed with SHA-256(username ":" realm ":"
// password).
const rfc8489B1 = `
	00 01 00 90  21 12 a4 42  78 ad 34 33  c6 ad 72 c0  29 da 41 2e
	00 1e 00 20  4a 3c f3 8f  ef 69 92 bd  a9 52 c6 78  04 17 da 0f  24 81 94 15  56 9e 60 b2  05 c4 6e 41  40 7f 17 04
	00 15 00 29  6f 62 4d 61  74 4a 6f 73  32 41 41 41  43 66 2f 2f  34 39 39 6b  39 35 34 64  36 4f 4c 33
	             34 6f 4c 39  46 53 54 76  79 36 34 73  41 00 00 00
	00 14 00 0b  65 78 61 6d  70 6c 65 2e  6f 72 67 00
	00 1d 00 04  00 02 00 00
	00 1c 00 20  b5 c7 bf 00  5b 6c 52 a2  1c 51 c5 e8  92 f8 19 24  13 62 96 cb  92 7c 43 14  93 09 27 8c  c6 51 8e 65`

func vectorKeySHA256() []byte {
	k := sha256.Sum256([]byte(vectorUsername + ":" + vectorRealm + ":" + vectorPassword))
	return k[:]
}

func TestRFC8489AppendixB1(t *testing.T) {
	m := decode(t, unhex(t, rfc8489B1))
	if err := NewMessageIntegritySHA256(vectorKeySHA256()).Check(m); err != nil {
		t.Fatalf("MESSAGE-INTEGRITY-SHA256: %v", err)
	}
	var alg PasswordAlgorithm
	if err := alg.GetFrom(m); err != nil || !alg.Equal(PasswordAlgorithm{Algorithm: AlgSHA256}) {
		t.Errorf("PASSWORD-ALGORITHM = %+v, %v", alg, err)
	}
	userhash := sha256.Sum256([]byte(vectorUsername + ":" + vectorRealm))
	if v, err := m.Get(stun.AttrUserhash); err != nil || !bytes.Equal(v, userhash[:]) {
		t.Errorf("USERHASH = %x, %v", v, err)
	}
	var nonce stun.Nonce
	if err := nonce.GetFrom(m); err != nil || nonce.String() != "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA" {
		t.Errorf("NONCE = %q, %v", nonce, err)
	}
	// An MD5 key (no PASSWORD-ALGORITHM semantics) must not verify.
	md5Key := stun.NewLongTermIntegrity(vectorUsername, vectorRealm, vectorPassword)
	if err := NewMessageIntegritySHA256(md5Key).Check(m); !errors.Is(err, ErrIntegrityMismatch) {
		t.Errorf("MD5 key: %v, want ErrIntegrityMismatch", err)
	}
}

// TestRFC8489AppendixB1Rebuild rebuilds the corrected vector from its parts
// with AddTo and expects the same bytes.
func TestRFC8489AppendixB1Rebuild(t *testing.T) {
	want := unhex(t, rfc8489B1)
	userhash := sha256.Sum256([]byte(vectorUsername + ":" + vectorRealm))
	m, err := stun.Build(
		stun.BindingRequest,
		stun.NewTransactionIDSetter([stun.TransactionIDSize]byte(want[8:20])),
		stun.RawAttribute{Type: stun.AttrUserhash, Value: userhash[:]},
		stun.NewNonce("obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA"),
		stun.NewRealm(vectorRealm),
		PasswordAlgorithm{Algorithm: AlgSHA256},
		NewMessageIntegritySHA256(vectorKeySHA256()),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Raw, want) {
		t.Errorf("rebuilt\n%x\nwant\n%x", m.Raw, want)
	}
}

// TestRFC8489AppendixB1Published documents that the vector as printed is not
// a well-formed message, which is why the corrected one is used above.
func TestRFC8489AppendixB1Published(t *testing.T) {
	raw := unhex(t, rfc8489B1Published)
	if Classify(raw) != KindInvalid {
		t.Errorf("Classify = %v, want invalid", Classify(raw))
	}
	if err := stun.Decode(raw, new(stun.Message)); err == nil {
		t.Error("pion decoded the inconsistent published vector")
	}
	if err := NewMessageIntegritySHA256(vectorKeySHA256()).Check(&stun.Message{Raw: raw}); !errors.Is(err, ErrMalformed) {
		t.Errorf("Check = %v, want ErrMalformed", err)
	}
}
