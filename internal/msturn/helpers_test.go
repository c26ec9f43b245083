package msturn

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
)

// unhex decodes a hex dump with whitespace.
func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// seqID is the transaction ID 00 01 02 … 0f of the vectors.
func seqID() TxID {
	var id TxID
	for i := range id {
		id[i] = byte(i)
	}
	return id
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
