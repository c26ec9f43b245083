package server

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

func TestBadInputIsDroppedAndCounted(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newClient("", "")
	valid := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint).Raw

	wrongCookie := append([]byte(nil), valid...)
	binary.BigEndian.PutUint32(wrongCookie[4:], 0xDEADBEEF)
	wrongLength := append([]byte(nil), valid...)
	binary.BigEndian.PutUint16(wrongLength[2:], uint16(len(valid))) // claims 20 bytes more than it has
	badFingerprint := append([]byte(nil), valid...)
	badFingerprint[len(badFingerprint)-1] ^= 0xFF
	badAttrLength := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewSoftware("abcd")).Raw
	binary.BigEndian.PutUint16(badAttrLength[22:], 200) // attribute longer than the message

	for _, tc := range []struct {
		name   string
		b      []byte
		reason stats.DropReason
	}{
		{"empty-ish", []byte{0}, stats.DropMalformed},
		{"truncated header", valid[:10], stats.DropMalformed},
		{"truncated body", valid[:len(valid)-4], stats.DropMalformed},
		{"wrong cookie", wrongCookie, stats.DropMalformed},
		{"wrong length", wrongLength, stats.DropMalformed},
		{"attribute overrun", badAttrLength, stats.DropMalformed},
		{"bad fingerprint", badFingerprint, stats.DropBadFingerprint},
		{"short ChannelData", []byte{0x40, 0x00, 0x00}, stats.DropMalformed},
		{"ChannelData longer than datagram", []byte{0x40, 0x00, 0x00, 0x10, 1, 2}, stats.DropMalformed},
		{"ChannelData without allocation", []byte{0x40, 0x00, 0x00, 0x02, 1, 2}, stats.DropNoAllocation},
		{"Send without allocation", stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
			stunproto.Data("x")).Raw, stats.DropNoAllocation},
	} {
		before := e.srv.Stats().Dropped(tc.reason)
		c.send(tc.b)
		c.barrier()
		if got := e.srv.Stats().Dropped(tc.reason) - before; got != 1 {
			t.Errorf("%s: %s drops went up by %d, want 1", tc.name, tc.reason, got)
		}
	}
}

func TestOversizedDatagramDoesNotHarmOthers(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.Workers = 1 }) // one worker: both clients share it
	u, p := e.credential("alice", time.Hour)
	good := e.newClient(u, p)
	relayed := good.allocate()
	pr := newPeer(t, "127.0.0.1")
	wantCode(t, good.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(pr.addr())), 0)

	bad := e.newClient("", "")
	bad.send(make([]byte, 60000)) // over the data path's packet size: dropped by the data path
	bad.barrier()
	if got := e.srv.Stats().DataPath.RxTruncated; got != 1 {
		t.Fatalf("truncated datagrams = %d, want 1", got)
	}
	good.send(channelData(0x4000, []byte("still relaying")))
	if got, from := pr.read(); string(got) != "still relaying" || from != relayed {
		t.Fatalf("peer got %q from %v", got, from)
	}
}

func TestRandomDatagramsDoNotHarmOtherSessions(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	good := e.newClient(u, p)
	relayed := good.allocate()
	pr := newPeer(t, "127.0.0.1")
	wantCode(t, good.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(pr.addr())), 0)

	noise := e.newClient("", "")
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1500)
	for i := range 2000 {
		n := rng.IntN(len(buf))
		for j := range n {
			buf[j] = byte(rng.Uint32())
		}
		if i%2 == 0 && n >= 20 { // half of it passes Classify and reaches the STUN decoder
			n -= n % 4
			buf[0] &= 0x3F
			binary.BigEndian.PutUint16(buf[2:], uint16(n-20))
			binary.BigEndian.PutUint32(buf[4:], 0x2112A442)
		}
		noise.send(buf[:n])
		if i%200 == 0 {
			noise.barrier()
		}
	}
	// A forged ChannelData "from" the noise client to the good client's
	// channel goes nowhere: channels belong to a 5-tuple.
	noise.send(channelData(0x4000, []byte("forged")))
	noise.barrier()
	good.send(channelData(0x4000, []byte("real")))
	if got, from := pr.read(); string(got) != "real" || from != relayed {
		t.Fatalf("peer got %q from %v, want only the real client's data", got, from)
	}
}
