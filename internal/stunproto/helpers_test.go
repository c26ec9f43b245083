package stunproto

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/pion/stun/v3"
)

// testTxID is a fixed transaction ID so that encodings are reproducible.
var testTxID = [stun.TransactionIDSize]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}

// build encodes an Allocate request carrying setters and returns it decoded
// from a fresh copy of its bytes, as a receiver would see it.
func build(t testing.TB, setters ...stun.Setter) *stun.Message {
	t.Helper()
	all := append([]stun.Setter{
		stun.NewType(stun.MethodAllocate, stun.ClassRequest),
		stun.NewTransactionIDSetter(testTxID),
	}, setters...)
	m, err := stun.Build(all...)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return decode(t, m.Raw)
}

// decode decodes a copy of raw.
func decode(t testing.TB, raw []byte) *stun.Message {
	t.Helper()
	m := new(stun.Message)
	if err := stun.Decode(append([]byte(nil), raw...), m); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return m
}

// withRaw returns a message holding a single attribute of type typ and value v.
func withRaw(t testing.TB, typ stun.AttrType, v []byte) *stun.Message {
	t.Helper()
	return build(t, stun.RawAttribute{Type: typ, Value: v})
}

// unhex decodes hex digits, ignoring white space.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("unhex: %v", err)
	}
	return b
}
