package probe

import (
	"fmt"
	"net/netip"
)

// tcpCheck connects to a TCP (or TLS) client port and reports the connect
// time.
func (p *prober) tcpCheck(server netip.AddrPort) Result {
	r := Result{Name: "tcp " + server.String()}
	start := p.opts.Clock.Now()
	c, err := p.dialTCP(server)
	if err != nil {
		r.Status = Fail
		switch {
		case isRefused(err):
			r.Detail = "connection refused"
			r.Remedy = fmt.Sprintf("nothing listens on TCP %d at %v, or a firewall rejects it: check that avedge runs with a "+
				"tcp listener on this address and port", server.Port(), server.Addr())
		case isTimeout(err):
			r.Detail = fmt.Sprintf("no answer within %v", p.opts.Timeout)
			r.Remedy = fmt.Sprintf("a firewall between you and the edge drops TCP %d (or the edge's host does): let it through "+
				"to the edge's tcp listener", server.Port())
		default:
			r.Detail = err.Error()
			r.Remedy = "check the route from this network to the edge"
		}
		return r
	}
	defer c.Close()
	r.Status, r.Detail = Pass, "connected in "+formatDuration(p.opts.Clock.Now().Sub(start))
	return r
}
