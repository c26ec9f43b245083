package server

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/msdialect"
)

// The MS-TURN fuzz target's addresses, and the connection ID of its
// allocation, fixed so that the committed seeds stay valid.
var (
	msFuzzClient = netip.MustParseAddrPort("127.0.0.1:40010")
	msFuzzActive = netip.MustParseAddrPort("127.0.0.1:50010")
	msFuzzOther  = netip.MustParseAddrPort("127.0.0.1:50011")
	msFuzzConnID = [msturn.ConnIDSize]byte{'a', 'v', 'e', 'd', 'g', 'e', '-', 'f', 'u', 'z', 'z', '-', 'c', 'o', 'n', 'n', '-', 'i', 'd', '!'}
)

// newMSFuzz is an MS-TURN allocation of msFuzzClient on a fake worker
// whose client has sent to msFuzzActive and msFuzzOther (numbers 1 and 2)
// and, when active, made msFuzzActive its active destination (number 3).
func newMSFuzz(tb testing.TB, active bool) *msFake {
	tb.Helper()
	f := newMSFakeWith(tb, msFuzzClient, func(h *msdialect.Handler) {
		h.NewConnID = func(id *[msturn.ConnIDSize]byte) { *id = msFuzzConnID }
	})
	for i, dest := range []netip.AddrPort{msFuzzActive, msFuzzOther} {
		if f.handle(tb, f.sendMsg(tb, dest, []byte("check"), msFuzzSeq(uint32(i+1)))) != nil {
			tb.Fatal("a Send was answered")
		}
	}
	if active {
		if r := f.handle(tb, f.sadMsg(tb, msFuzzActive, msFuzzSeq(3))); r == nil || r.Type != msturn.SetActiveDestResponse {
			tb.Fatal("Set Active Destination failed")
		}
	}
	return f
}

func msFuzzSeq(n uint32) msturn.Sequence { return msturn.Sequence{ConnID: msFuzzConnID, Number: n} }

// msFuzzSeeds are messages of every kind the dialect's handlers take, valid
// for newMSFuzz's allocation, and raw data.
func msFuzzSeeds(tb testing.TB, f *msFake) [][]byte {
	sha := msturn.KeySHA256(f.username, f.realm, f.password, f.nonce)
	return [][]byte{
		msBuild(tb, msturn.AllocateRequest, newTxID(), msU32(msturn.AttrMSVersion, 1)),
		f.allocateMsg(tb, newTxID()),
		f.allocateMsg(tb, newTxID(), msU32(msturn.AttrLifetime, 3600)),
		f.allocateMsg(tb, newTxID(), msU32(msturn.AttrLifetime, 0)),
		f.allocateMsg(tb, newTxID(), msBytes(0x0030, []byte{0, 0, 0, 0})),
		f.allocateMsg(tb, newTxID(), msBytes(msturn.AttrMSServiceQuality, []byte{0, 1, 0, 0}),
			msBytes(msturn.AttrRequestedAddressFamily, []byte{2, 0, 0, 0})),
		msBuild(tb, msturn.AllocateRequest, newTxID(), msU32(msturn.AttrMSVersion, 3), msStr(msturn.AttrRealm, f.realm),
			msStr(msturn.AttrNonce, f.nonce), msStr(msturn.AttrUsername, f.username), msSign(sha)),
		f.sendMsg(tb, msFuzzOther, []byte("numbered"), msFuzzSeq(4)),
		f.sendMsg(tb, msFuzzOther, []byte("unnumbered"), msturn.Sequence{}),
		f.sendMsg(tb, netip.MustParseAddrPort("127.0.0.1:50012"), []byte("new peer"), msFuzzSeq(4)),
		f.sendMsg(tb, deniedPeer, []byte("denied"), msFuzzSeq(4)),
		f.sendMsg(tb, msFuzzOther, []byte("repeated"), msFuzzSeq(3)),
		f.sadMsg(tb, msFuzzActive, msFuzzSeq(3)),
		f.sadMsg(tb, msFuzzOther, msFuzzSeq(4)),
		f.sadMsg(tb, deniedPeer, msFuzzSeq(4)),
		msBuild(tb, msturn.DataIndication, newTxID(), msAddr(msturn.AttrRemoteAddress, msFuzzOther), msBytes(msturn.AttrData, []byte("x"))),
		[]byte("\x80\x00RTP-ish media"),
		stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint).Raw,
		channelData(0x4000, []byte("abcd")),
	}
}

// FuzzMSHandlers feeds arbitrary datagrams to an MS-TURN allocation, before
// (active false) and after Set Active Destination: from the client through
// handleClient, then from the active destination and from another
// permitted peer through handlePeer. The worker must not panic; a message
// of the dialect is answered, if at all, with a message of the dialect
// with its transaction ID and a type that answers it (a Send never), a
// success signed with the allocation's key; the client's other datagrams
// are never answered once it has an active destination, and reach it
// unchanged; what the worker relays to a peer is the client's data.
func FuzzMSHandlers(f *testing.F) {
	seed := newMSFuzz(f, false)
	for _, s := range msFuzzSeeds(f, seed) {
		f.Add(false, s)
		f.Add(true, s)
	}
	f.Fuzz(func(t *testing.T, active bool, data []byte) {
		m := newMSFuzz(t, active)
		key := msturn.NewIntegrity(m.key)
		// Datagrams that pass msturn.Is go to the dialect's handlers,
		// which drop those that do not decode.
		ms := msturn.Is(data)
		var req msturn.Message
		decoded := ms && req.Decode(data) == nil
		before, relayed := m.lsock.writes, m.relay.writes
		buf, off, n := packetBuf(data)
		m.w.handleClient(m.l, m.client, buf, off, n, 0)

		if m.lsock.writes > before {
			out := m.lsock.lastWrite()
			switch {
			case ms && !decoded:
				t.Fatalf("a broken message answered with % x", out)
			case ms:
				ans := msDecode(t, out)
				if ans.TxID != req.TxID {
					t.Fatalf("answer %#04x with transaction ID %x to request %#04x %x", ans.Type, ans.TxID, req.Type, req.TxID)
				}
				if !msAnswers(req.Type, ans.Type) {
					t.Fatalf("request %#04x answered with %#04x", req.Type, ans.Type)
				}
				if (ans.Type == msturn.AllocateResponse || ans.Type == msturn.SetActiveDestResponse) && key.Check(ans) != nil {
					t.Fatalf("success %#04x not signed with the allocation's key", ans.Type)
				}
			case active:
				t.Fatalf("raw data of an active session answered with % x", out)
			}
		}
		if m.relay.writes > relayed {
			got, to := m.relay.lastWrite(), m.relay.to
			switch {
			case ms && (!decoded || req.Type != msturn.SendRequest):
				t.Fatalf("message %#04x relayed % x to %v", req.Type, got, to)
			case ms:
				if want, _ := req.Get(msturn.AttrData); !bytes.Equal(got, want) {
					t.Fatalf("Send relayed % x, want its DATA % x", got, want)
				}
			case !bytes.Equal(got, data) || to != m.s.ms.Active():
				t.Fatalf("raw data % x relayed as % x to %v, want it unchanged to the active destination %v", data, got, to, m.s.ms.Active())
			}
		} else if active && !ms {
			t.Fatal("raw data of an active session not relayed")
		}

		if m.w.lookup(m.l, m.client) != m.s {
			return // deleted (LIFETIME 0): its relay socket is closed
		}
		for _, from := range []netip.AddrPort{msFuzzActive, msFuzzOther} {
			before := m.lsock.writes
			buf, off, n := packetBuf(data)
			m.w.handlePeer(m.s, from, buf, off, n, 0)
			if m.lsock.writes == before {
				continue
			}
			out := m.lsock.lastWrite()
			if from == m.s.ms.Active() {
				if !bytes.Equal(out, data) {
					t.Fatalf("the active destination's % x reached the client as % x", data, out)
				}
				continue
			}
			var ind msturn.Message
			if err := ind.Decode(out); err != nil || ind.Type != msturn.DataIndication {
				t.Fatalf("peer data reached the client as % x (%v), want a Data Indication", out, err)
			}
			got, _ := ind.Get(msturn.AttrData)
			src, _ := ind.Address(msturn.AttrRemoteAddress)
			if !bytes.Equal(got, data) || src != from {
				t.Fatalf("Data Indication from %v with % x, want from %v with % x", src, got, from, data)
			}
		}
	})
}

// msAnswers reports whether ans is a type that answers a request of type
// req.
func msAnswers(req, ans msturn.Type) bool {
	switch req {
	case msturn.AllocateRequest:
		return ans == msturn.AllocateResponse || ans == msturn.AllocateError
	case msturn.SetActiveDestination:
		return ans == msturn.SetActiveDestResponse || ans == msturn.SetActiveDestError
	}
	return false
}
