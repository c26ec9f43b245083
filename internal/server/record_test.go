package server

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

// TestRecordUDP: an allocation over UDP that relays a few packets each way
// and ends with a Refresh of lifetime 0 yields a Record with the
// credential's user and identity, the addresses, the transports, its start
// and end on the server's clock and the packets and payload bytes relayed.
func TestRecordUDP(t *testing.T) {
	e := newTestEdge(t, nil)
	ephemeral, ephemeralPass := e.credential("alice", time.Hour)
	for _, tc := range []struct {
		name, user, pass, identity string
	}{
		{"ephemeral credential", ephemeral, ephemeralPass, "alice"},
		{"static user", "static", "static-password", "static"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.newClient(tc.user, tc.pass)
			start := e.clk.Now()
			relayed := c.allocate()
			pr := newPeer(t, "127.0.0.1")
			wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(pr.addr())), 0)
			const toPeer, toClient = 3, 2
			for range toPeer {
				sendIndication(t, c, pr, relayed) // "send to " + peer address
			}
			back := []byte("back to the client")
			for range toClient {
				pr.sendTo(back, relayed)
				m := c.readMessage()
				var data stunproto.Data
				if m.Type != stun.NewType(stun.MethodData, stun.ClassIndication) || data.GetFrom(m) != nil || !bytes.Equal(data, back) {
					t.Fatalf("client got %v %q, want a Data indication with %q", m.Type, data, back)
				}
			}
			e.clk.Advance(42 * time.Second)
			wantCode(t, c.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
			got := e.waitEnded()
			sent := uint64(len("send to " + pr.addr().String()))
			want := stats.Record{
				Username:        tc.user,
				Identity:        tc.identity,
				Tenant:          auth.DefaultTenant,
				Client:          c.addr(),
				Relayed:         relayed,
				Dialect:         "rfc",
				Transport:       "udp",
				RelayProtocol:   "udp",
				Start:           start,
				End:             start.Add(42 * time.Second),
				Reason:          "refresh 0",
				ToPeerPackets:   toPeer,
				ToPeerBytes:     toPeer * sent,
				ToClientPackets: toClient,
				ToClientBytes:   toClient * uint64(len(back)),
			}
			if !got.Start.Equal(want.Start) || !got.End.Equal(want.End) {
				t.Errorf("start %v end %v, want %v and %v", got.Start, got.End, want.Start, want.End)
			}
			got.Start, got.End = want.Start, want.End
			if got != want {
				t.Errorf("record\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// TestRecordStreamTransports: the Record names the client connection's
// transport (tcp or tls) and the relayed address's protocol (udp, or tcp
// for an RFC 6062 allocation).
func TestRecordStreamTransports(t *testing.T) {
	se := newStreamEdge(t, nil)
	for _, tc := range []struct {
		name                     string
		useTLS                   bool
		transport                stunproto.RequestedTransport
		wantTransport, wantRelay string
	}{
		{"tcp client, udp relay", false, udpTransport, "tcp", "udp"},
		{"tls client, udp relay", true, udpTransport, "tls", "udp"},
		{"tcp client, tcp relay", false, tcpTransport, "tcp", "tcp"},
		{"tls client, tcp relay", true, tcpTransport, "tls", "tcp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, p := se.credential("bob", time.Hour)
			c := se.newStreamClientOver(tc.useTLS, u, p)
			r := c.do(stun.MethodAllocate, tc.transport)
			wantCode(t, r, 0)
			var relayed stunproto.XORRelayedAddress
			if err := relayed.GetFrom(r); err != nil {
				t.Fatal(err)
			}
			wantCode(t, c.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
			rec := se.waitEnded()
			client := c.conn.LocalAddr().String()
			if rec.Transport != tc.wantTransport || rec.RelayProtocol != tc.wantRelay || rec.Identity != "bob" ||
				rec.Username != u || rec.Relayed != relayed.Addr || rec.Client != netip.MustParseAddrPort(client) {
				t.Errorf("record %+v, want transport %s, relay protocol %s, identity bob, client %s, relayed %v",
					rec, tc.wantTransport, tc.wantRelay, client, relayed.Addr)
			}
		})
	}
}

// TestRecordDialects: an [MS-TURN] allocation is counted and recorded with
// its dialect and its real client transport: udp, tcp (the dialect's
// framing in the clear) or pseudo-tls.
func TestRecordDialects(t *testing.T) {
	se := newStreamEdge(t, nil)
	for _, tc := range []struct {
		name              string
		stream, pseudoTLS bool
		transport         stats.Transport
	}{
		{"udp", false, false, stats.TransportUDP},
		{"tcp", true, false, stats.TransportTCP},
		{"pseudo-tls", true, true, stats.TransportPseudoTLS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, p := se.credential("carol", time.Hour)
			c := se.newMSClient(u, p)
			if tc.stream {
				c = se.newMSStreamClient(tc.pseudoTLS, u, p)
			}
			kind := stats.KindOf(stats.DialectMSTURN, tc.transport, stats.RelayUDP, stats.FamilyIPv4)
			before := se.srv.Stats()
			c.allocate()
			after := se.srv.Stats()
			if after.AllocationsCreated[kind] != before.AllocationsCreated[kind]+1 || after.AllocationsByKind[kind] != 1 {
				t.Fatalf("kind %s/%s: %d created (before %d), %d live; want one more and 1",
					kind.Dialect(), kind.Transport(), after.AllocationsCreated[kind], before.AllocationsCreated[kind],
					after.AllocationsByKind[kind])
			}
			c.wantSuccess(c.roundTrip(c.allocateMsg(newTxID(), msU32(msturn.AttrLifetime, 0))), msturn.AllocateResponse)
			rec := se.waitEnded()
			if rec.Dialect != "ms-turn" || rec.Transport != tc.transport.String() || rec.RelayProtocol != "udp" ||
				rec.Identity != "carol" || rec.Reason != stats.EndRefreshZero.String() {
				t.Errorf("record %+v, want dialect ms-turn, transport %s, relay protocol udp, identity carol, refresh 0",
					rec, tc.transport)
			}
		})
	}
}
