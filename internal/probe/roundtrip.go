package probe

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// roundTrips is the number of packets sent each way through the relay.
const roundTrips = 5

// relayPorts names the edge's default relay port range in remedies.
const relayPorts = "50000–59999 UDP"

// relayTest is what the round trip through one allocation found.
type relayTest struct {
	permitted netip.Addr     // the peer IP the edge was asked to permit
	peer      netip.AddrPort // the peer as the relay sees it
	hello     bool           // the peer's first packet reached the client
	toPeer    int            // packets that reached the peer
	toClient  int            // echoes that reached the client
	rtts      []time.Duration
	err       error          // a failure before any packet was sent
	refusal   stun.ErrorCode // the error code refusing the permission, if any
}

// roundTripCheck opens a probe peer socket, asks the edge to permit it
// (CreatePermission, RFC 8656 §9), lets the peer send to the relayed
// address first (peer→relay→client, RFC 8656 §11.3, which also opens any
// NAT in front of the peer), then sends roundTrips packets client→relay→peer
// with Send indications (§11.1), which the peer echoes straight to the
// relayed address, and times each round trip. It returns the round-trip
// result and the relay-port reachability result (check 7).
func (p *prober) roundTripCheck(s *session) (Result, Result) {
	start := p.opts.Clock.Now()
	t := p.relayTest(s)
	took := p.opts.Clock.Now().Sub(start)
	rt, ports := relayResults(s.label, s.obs.relayed, t)
	rt.Duration, ports.Duration = took, took
	return rt, ports
}

// relayTest runs the exchange of roundTripCheck.
func (p *prober) relayTest(s *session) relayTest {
	var t relayTest
	relayed := s.obs.relayed
	local := p.opts.PeerAddress
	if !local.IsValid() {
		var err error
		if local, err = p.localTowards(relayed); err != nil {
			t.err = err
			return t
		}
	}
	pc, err := p.listenUDP(local)
	if err != nil {
		t.err = err
		return t
	}
	defer pc.Close()
	peerLocal := addrPortOf(pc.LocalAddr())
	// The edge sees the peer's packets from the probe's public address
	// when both sit behind the same NAT: permit the address the edge saw
	// the probe as, unless told otherwise or of the other family.
	t.permitted = peerLocal.Addr()
	if m := s.obs.mapped.Addr(); !p.opts.PeerAddress.IsValid() && m.IsValid() && m.Is4() == relayed.Addr().Is4() {
		t.permitted = m
	}
	t.peer = netip.AddrPortFrom(t.permitted, peerLocal.Port())
	if _, _, err := s.client.request(stun.MethodCreatePermission, stunproto.XORPeerAddress{Addr: netip.AddrPortFrom(t.permitted, 0)}); err != nil {
		var se *stunError
		if errors.As(err, &se) {
			t.refusal = se.code
		}
		t.err = fmt.Errorf("CreatePermission for %v: %w", t.permitted, err)
		return t
	}
	wait := max(p.opts.Timeout/roundTrips, 100*time.Millisecond)
	relayedUDP := net.UDPAddrFromAddrPort(relayed)
	hello := []byte("avedge-probe hello")
	if _, err := pc.WriteTo(hello, relayedUDP); err == nil {
		if from, ok := p.awaitData(s.client, hello, wait); ok {
			t.hello, t.peer = true, from
		}
	}
	buf := make([]byte, 1500)
	for i := range roundTrips {
		payload := fmt.Appendf(nil, "avedge-probe %d", i)
		sent := p.opts.Clock.Now()
		if s.client.send(t.peer, payload) != nil {
			continue
		}
		if !awaitPeer(pc, buf, payload, p.opts.Clock.Now().Add(wait)) {
			continue
		}
		t.toPeer++
		// Check 7: the peer sends straight to the relayed address, as any
		// peer on the internet would.
		if _, err := pc.WriteTo(payload, relayedUDP); err != nil {
			continue
		}
		if _, ok := p.awaitData(s.client, payload, wait); ok {
			t.toClient++
			t.rtts = append(t.rtts, p.opts.Clock.Now().Sub(sent))
		}
	}
	return t
}

// awaitData waits for a Data indication carrying payload and returns the
// peer it came from.
func (p *prober) awaitData(c *turnClient, payload []byte, wait time.Duration) (netip.AddrPort, bool) {
	deadline := p.opts.Clock.Now().Add(wait)
	for {
		from, data, err := c.receive(deadline)
		if err != nil {
			return netip.AddrPort{}, false
		}
		if bytes.Equal(data, payload) {
			return from, true
		}
	}
}

// awaitPeer waits for payload on the peer socket.
func awaitPeer(pc net.PacketConn, buf, payload []byte, deadline time.Time) bool {
	if pc.SetReadDeadline(deadline) != nil {
		return false
	}
	for {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			return false
		}
		if bytes.Equal(buf[:n], payload) {
			return true
		}
	}
}

// relayResults turns a relay test into the round-trip result (check 6)
// and the relay-port reachability result (check 7).
func relayResults(label string, relayed netip.AddrPort, t relayTest) (rt, ports Result) {
	rt = Result{Name: "round-trip " + label}
	ports = Result{Name: "relay-port " + label}
	if t.err != nil {
		rt.Status, rt.Detail = Fail, t.err.Error()
		switch t.refusal {
		case stun.CodeForbidden:
			rt.Remedy = fmt.Sprintf("the edge's peer policy refuses this address (%v): the edge relays only to public "+
				"addresses unless peers.allow lists a range; run the probe from a public address, or give --peer-address", t.permitted)
		case stun.CodePeerAddrFamilyMismatch:
			rt.Remedy = fmt.Sprintf("the peer address %v is not of the relayed address's family: give a --peer-address of "+
				"the family of %v", t.permitted, relayed.Addr())
		default:
			rt.Remedy = "see the allocate check; the edge's log says why the permission failed"
		}
		ports.Status, ports.Detail = Skip, "no permission for a probe peer"
		return rt, ports
	}
	loss := 100 * (roundTrips - len(t.rtts)) / roundTrips
	rt.Detail = fmt.Sprintf("%d/%d round trips via relayed %v to peer %v", len(t.rtts), roundTrips, relayed, t.peer)
	if len(t.rtts) > 0 {
		lo, hi, sum := t.rtts[0], t.rtts[0], time.Duration(0)
		for _, d := range t.rtts {
			lo, hi, sum = min(lo, d), max(hi, d), sum+d
		}
		rt.Detail += fmt.Sprintf(", rtt min/avg/max %s/%s/%s", formatDuration(lo), formatDuration(sum/time.Duration(len(t.rtts))), formatDuration(hi))
	}
	rt.Detail += fmt.Sprintf(", loss %d%%", loss)
	switch {
	case len(t.rtts) == roundTrips:
		rt.Status = Pass
	case len(t.rtts) > 0:
		rt.Status = Warn
		rt.Remedy = "packets are lost on the way through the relay: check for congestion or rate limits between you and the edge"
	case t.toPeer == 0:
		rt.Status = Fail
		rt.Remedy = fmt.Sprintf("the relay did not deliver to the peer %v: the edge's host or its firewall blocks outbound UDP "+
			"from the relay ports, or a firewall in front of this machine drops packets from %v", t.peer, relayed.Addr())
	default:
		rt.Status = Fail
		rt.Remedy = "packets reach the peer but its answers do not come back through the relay: see the relay-port check"
	}
	leg := "the peer's packets to relayed address " + relayed.String()
	switch {
	case t.hello || t.toClient > 0:
		ports.Status, ports.Detail = Pass, "the peer reached relayed address "+relayed.String()+" directly"
	default:
		ports.Status = Fail
		ports.Detail = leg + " never reached you"
		if t.toPeer > 0 {
			ports.Detail += " although the client→peer leg works"
		}
		ports.Remedy = fmt.Sprintf("relay ports (%s) not reachable from the peer's network: open them for inbound UDP on "+
			"the edge's external firewall (and cloud security group), and forward them 1:1 on any NAT in front of the edge",
			relayPorts)
	}
	return rt, ports
}
