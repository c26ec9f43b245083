package probe

import (
	"fmt"
	"net/netip"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// observation is what one exchange with the edge showed about the
// addresses on the way: where the probe sent to, where the answer came
// from, the probe's local and reflexive addresses, and the relayed address
// of an allocation.
type observation struct {
	server  netip.AddrPort
	from    netip.AddrPort
	local   netip.AddrPort
	mapped  netip.AddrPort
	relayed netip.AddrPort
}

// bindingCheck sends a STUN Binding request over UDP (RFC 8489 §6) and
// reports the reflexive address of XOR-MAPPED-ADDRESS (§14.2) and the
// round-trip time.
func (p *prober) bindingCheck(server netip.AddrPort) (Result, *observation) {
	r := Result{Name: "stun udp " + server.String()}
	pc, err := p.udpTowards(server)
	if err != nil {
		r.Status, r.Detail = Fail, err.Error()
		return r, nil
	}
	defer pc.Close()
	c := newTurnClient(newUDPTransport(pc, server), p.opts.Clock, p.opts.Timeout)
	req, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if err != nil {
		r.Status, r.Detail = Fail, err.Error()
		return r, nil
	}
	start := p.opts.Clock.Now()
	res, err := c.transact(req)
	rtt := p.opts.Clock.Now().Sub(start)
	if err != nil {
		r.Status, r.Detail = Fail, fmt.Sprintf("no Binding answer: %v", err)
		r.Remedy = fmt.Sprintf("UDP %d is blocked by a firewall between you and the edge, or the edge is not listening: "+
			"check that avedge runs, that a udp listener binds %v (or 0.0.0.0:%d), and that every firewall on the way "+
			"(this network's, the edge's host and cloud security groups) lets UDP %d through both ways",
			server.Port(), server, server.Port(), server.Port())
		return r, nil
	}
	var mapped stunproto.XORMappedAddress
	if err := mapped.GetFrom(res); err != nil {
		r.Status, r.Detail = Fail, fmt.Sprintf("Binding answer without XOR-MAPPED-ADDRESS (%v)", err)
		r.Remedy = "the server on this port is not a STUN server that follows RFC 8489: check which service listens there"
		return r, nil
	}
	obs := &observation{server: server, from: c.from, local: c.tr.local(), mapped: mapped.Addr}
	r.Status = Pass
	r.Detail = fmt.Sprintf("reflexive address %v (%s), rtt %s", mapped.Addr, behindNAT(obs.local, mapped.Addr), formatDuration(rtt))
	return r, obs
}

// behindNAT says whether the local and reflexive addresses differ.
func behindNAT(local, mapped netip.AddrPort) string {
	if local == mapped {
		return "no NAT between you and the edge"
	}
	return fmt.Sprintf("local %v: you are behind NAT", local)
}
