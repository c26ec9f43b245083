package server

import (
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

// TestLegacyChannelNumbers: a channel number of RFC 5766's range
// (0x5000-0x7FFF) is bound and relays ChannelData both ways, counted apart
// from RFC 8656's; with StrictChannelNumbers it gets 400.
func TestLegacyChannelNumbers(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	relayed := c.allocate()
	pr := newPeer(t, "127.0.0.2")
	wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x7ABC), peerAttr(pr.addr())), 0)
	exchange(t, c, pr, relayed, 0x7ABC)
	pr2 := newPeer(t, "127.0.0.2")
	wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4001), peerAttr(pr2.addr())), 0)
	exchange(t, c, pr2, relayed, 0x4001)
	st := e.srv.Stats()
	if got := st.ChannelBinds; got[stats.ChannelRFC5766] != 1 || got[stats.ChannelRFC8656] != 1 {
		t.Errorf("channel binds %v, want one of each range", got)
	}

	strict := newTestEdge(t, func(o *Options) { o.Allocation.StrictChannelNumbers = true })
	u, p = strict.credential("bob", time.Hour)
	sc := strict.newClient(u, p)
	sc.allocate()
	wantCode(t, sc.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x5000), peerAttr(pr.addr())), stun.CodeBadRequest)
	wantCode(t, sc.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4FFF), peerAttr(pr.addr())), 0)
}
