package server

import (
	"testing"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// fuzzSeeds are well-formed messages of every kind the dispatcher handles,
// so that the fuzzer starts from deep inside it.
func fuzzSeeds(f *socketFreeWorker) [][]byte {
	signed := func(method stun.Method, attrs ...stun.Setter) []byte {
		var n stun.Nonce
		for _, s := range f.w.env.auth.Challenge(f.client) {
			if nn, ok := s.(stun.Nonce); ok {
				n = nn
			}
		}
		setters := []stun.Setter{stun.TransactionID, stun.NewType(method, stun.ClassRequest)}
		setters = append(setters, attrs...)
		setters = append(setters, stun.NewUsername(f.username), stun.NewRealm(testRealm), n,
			stun.NewLongTermIntegrity(f.username, testRealm, f.password), stun.Fingerprint)
		return stun.MustBuild(setters...).Raw
	}
	peer := peerAttr(f.peer)
	return [][]byte{
		stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint).Raw,
		stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest), udpTransport).Raw,
		signed(stun.MethodAllocate, udpTransport),
		signed(stun.MethodAllocate, udpTransport, stunproto.EvenPort{ReservePort: true}, stunproto.DontFragment{}),
		signed(stun.MethodAllocate, udpTransport, stunproto.AdditionalAddressFamily(stunproto.FamilyIPv6)),
		signed(stun.MethodAllocate, udpTransport, stunproto.RequestedAddressFamily(stunproto.FamilyIPv6)),
		signed(stun.MethodAllocate, udpTransport, stunproto.ReservationToken{1, 2, 3, 4, 5, 6, 7, 8}),
		signed(stun.MethodRefresh, stunproto.Lifetime{Duration: 600e9}),
		signed(stun.MethodRefresh, stunproto.Lifetime{}, stunproto.RequestedAddressFamily(stunproto.FamilyIPv4)),
		signed(stun.MethodCreatePermission, peer),
		signed(stun.MethodChannelBind, stunproto.ChannelNumber(0x4001), peer),
		signed(stun.MethodAllocate, stunproto.RequestedTransport{Protocol: stunproto.ProtoTCP}),
		signed(stun.MethodConnect, peer),
		signed(stun.MethodConnectionBind, stunproto.ConnectionID(1)),
		stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication), peer, stunproto.Data("x")).Raw,
		stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication), peer, stunproto.Data("x"),
			stunproto.DontFragment{}).Raw,
		channelData(0x4000, []byte("media")),
	}
}

// FuzzHandleClient feeds arbitrary datagrams to the request dispatcher and
// forwarders, from the client side and from the peer side. Whatever comes
// in, the worker must not panic, and whatever it answers a client must be a
// STUN message with a valid FINGERPRINT or ChannelData.
func FuzzHandleClient(f *testing.F) {
	seedWorker := newSocketFreeWorker(f)
	for _, s := range fuzzSeeds(seedWorker) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sw := newSocketFreeWorker(t)
		buf, off, n := packetBuf(data)
		before := sw.lsock.writes
		sw.w.handleClient(sw.l, sw.client, buf, off, n, 0)
		if sw.lsock.writes > before {
			out := sw.lsock.lastWrite()
			if stunproto.Classify(out) == stunproto.KindSTUN {
				m := new(stun.Message)
				if err := stun.Decode(out, m); err != nil {
					t.Fatalf("answer does not decode: %v", err)
				}
				if err := stun.Fingerprint.Check(m); err != nil {
					t.Fatalf("answer FINGERPRINT: %v", err)
				}
			}
		}
		buf, off, n = packetBuf(data)
		sw.w.handlePeer(sw.s, sw.peer, buf, off, n, 0)
		if got := sw.lsock.lastWrite(); sw.lsock.writes > before && len(got) == 0 {
			t.Fatal("empty datagram sent to the client")
		}
	})
}
