package msdialect

import (
	"testing"
	"time"

	"github.com/avedge/avedge/internal/msturn"
)

// seqMsg decodes a Send request numbered with seq, or unnumbered when seq
// is nil.
func seqMsg(t *testing.T, seq *msturn.Sequence) *msturn.Message {
	t.Helper()
	var b msturn.Builder
	b.Start(make([]byte, 0, 128), msturn.SendRequest, msturn.TxID{1})
	if seq != nil {
		b.AddSequence(*seq)
	}
	if b.Err() != nil {
		t.Fatal(b.Err())
	}
	var m msturn.Message
	if err := m.Decode(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	return &m
}

// TestSequence: the MS-SEQUENCE-NUMBER rules (§2.2.2.21): unnumbered
// requests pass until the client numbers one; then a higher number passes,
// the same number is a retransmission, and a lower one, another connection
// ID or an unnumbered request is refused.
func TestSequence(t *testing.T) {
	ms := newState([]byte("key"), "nonce", 4, time.Time{})
	ms.seq.ConnID = [msturn.ConnIDSize]byte{1, 2, 3}
	at := func(n uint32) *msturn.Sequence { return &msturn.Sequence{ConnID: ms.seq.ConnID, Number: n} }
	other := &msturn.Sequence{ConnID: [msturn.ConnIDSize]byte{9}, Number: 50}
	for i, tc := range []struct {
		seq       *msturn.Sequence
		ok, retry bool
	}{
		{nil, true, false},
		{at(5), true, false},
		{at(5), true, true},
		{at(4), false, false},
		{other, false, false},
		{nil, false, false},
		{at(6), true, false},
		{at(0xFFFFFFF0 + 6), false, false}, // behind, in serial number arithmetic
	} {
		ok, retry := ms.sequence(seqMsg(t, tc.seq))
		if ok != tc.ok || retry != tc.retry {
			t.Fatalf("request %d: ok %v, retry %v; want %v, %v", i, ok, retry, tc.ok, tc.retry)
		}
	}
	if ms.seq.Number != 6 {
		t.Fatalf("last number %d, want 6", ms.seq.Number)
	}
}
