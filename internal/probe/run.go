package probe

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// prober holds the state of one probe run.
type prober struct {
	ctx    context.Context
	opts   Options
	report *Report
	cred   *Credential
}

// Run probes the edges that opts name and returns the report. Its error
// wraps ErrBadOptions or ErrBadURI for options it cannot run with; what
// it finds wrong with the edge is in the report. Every network operation
// is bounded by opts.Timeout, and every socket is closed when Run returns
// or ctx ends.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // closes every socket still open (closeOnCancel)
	p := &prober{ctx: ctx, opts: opts, report: &Report{Started: opts.Clock.Now()}}
	uris := opts.URIs
	if opts.Credentials != nil {
		p.timed(p.credentialCheck)
		if len(uris) == 0 && p.cred != nil {
			uris = p.cred.URIs
		}
	}
	p.report.Target = strings.Join(uris, " ")
	var endpoints []Endpoint
	seen := make(map[Endpoint]bool)
	for _, u := range uris {
		eps, err := ParseURI(u)
		if err != nil {
			p.add(Result{Name: "uri", Status: Fail, Detail: err.Error(), Remedy: "the credential's issuer hands out a URI clients cannot use: fix its relay settings"})
			continue
		}
		for _, ep := range eps {
			if !seen[ep] {
				seen[ep] = true
				endpoints = append(endpoints, ep)
			}
		}
	}
	if len(endpoints) == 0 {
		p.add(Result{Name: "uri", Status: Fail, Detail: "no URI to probe",
			Remedy: "name the edge on the command line, such as turn:edge.example.com"})
		return p.report, nil
	}
	p.probe(endpoints)
	return p.report, nil
}

// reach is what the checks so far found about the endpoints.
type reach struct {
	addrs map[string]resolved     // DNS, by host
	udp   map[netip.AddrPort]bool // STUN Binding answered
	tcp   map[netip.AddrPort]bool // TCP connect succeeded
	tls   map[Endpoint]bool       // certificate verified
	obs   []observation           // addresses seen, for the NAT check
}

// server returns the address of ep, if its host resolved.
func (rc *reach) server(ep Endpoint) (netip.AddrPort, bool) {
	r := rc.addrs[ep.Host]
	return netip.AddrPortFrom(r.addr, ep.Port), r.ok
}

// probe runs the checks on the endpoints, in the order of the package
// documentation.
func (p *prober) probe(endpoints []Endpoint) {
	rc := &reach{addrs: make(map[string]resolved), udp: make(map[netip.AddrPort]bool),
		tcp: make(map[netip.AddrPort]bool), tls: make(map[Endpoint]bool)}
	for _, ep := range endpoints {
		if _, done := rc.addrs[ep.Host]; !done {
			p.timed(func() Result { r, res := p.dnsCheck(ep.Host); rc.addrs[ep.Host] = res; return r })
		}
	}
	p.reachChecks(endpoints, rc)
	sessions := p.allocations(endpoints, rc)
	defer func() {
		for _, s := range sessions {
			s.close()
		}
	}()
	var ports []Result
	for _, s := range sessions {
		rt, pr := p.roundTripCheck(s)
		p.add(rt)
		ports = append(ports, pr)
	}
	p.add(ports...)
	p.timed(func() Result { return natCheck(rc.obs) })
	p.timed(func() Result { return clockCheck(p.cred, p.opts.Clock.Now(), p.opts.MaxCredentialLifetime) })
}

// reachChecks runs the STUN Binding of each UDP address, the TCP connect
// of each TCP or TLS address, and the TLS check of each TLS endpoint.
func (p *prober) reachChecks(endpoints []Endpoint, rc *reach) {
	for _, ep := range endpoints {
		a, ok := rc.server(ep)
		if _, done := rc.udp[a]; !ok || ep.Transport != UDP || done {
			continue
		}
		p.timed(func() Result {
			r, o := p.bindingCheck(a)
			if rc.udp[a] = o != nil; o != nil {
				rc.obs = append(rc.obs, *o)
			}
			return r
		})
	}
	for _, ep := range endpoints {
		a, ok := rc.server(ep)
		if _, done := rc.tcp[a]; !ok || ep.Transport == UDP || done {
			continue
		}
		p.timed(func() Result { r := p.tcpCheck(a); rc.tcp[a] = r.Status == Pass; return r })
	}
	for _, ep := range endpoints {
		a, ok := rc.server(ep)
		switch {
		case !ok || ep.Transport != TLS:
		case !rc.tcp[a]:
			p.add(Result{Name: "tls " + ep.Addr(), Status: Skip, Detail: "TCP port not reachable (see the tcp check)"})
		default:
			p.timed(func() Result { r, ok := p.tlsCheck(ep, a); rc.tls[ep] = ok; return r })
		}
	}
}

// allocations runs the Allocate check of each TURN endpoint and returns
// the allocations made.
func (p *prober) allocations(endpoints []Endpoint, rc *reach) []*session {
	var sessions []*session
	for _, ep := range endpoints {
		if ep.STUNOnly {
			continue
		}
		a, ok := rc.server(ep)
		if !ok {
			p.add(Result{Name: fmt.Sprintf("allocate %s %s", ep.Transport, ep.Addr()), Status: Skip,
				Detail: "no address for " + ep.Host + " (see the dns check)"})
			continue
		}
		if skip := p.allocateSkip(ep, rc.udp[a], rc.tcp[a], rc.tls[ep]); skip != "" {
			p.add(Result{Name: fmt.Sprintf("allocate %s %v", ep.Transport, a), Status: Skip, Detail: skip})
			continue
		}
		p.timed(func() Result {
			r, s := p.allocateCheck(ep, a)
			if s != nil {
				sessions = append(sessions, s)
				rc.obs = append(rc.obs, s.obs)
			}
			return r
		})
	}
	return sessions
}

// allocateSkip says why the Allocate over ep is not tried, or "".
func (p *prober) allocateSkip(ep Endpoint, udpOK, tcpOK, tlsOK bool) string {
	switch {
	case p.cred == nil:
		return "no credential (give --user and --password, or --credentials-from)"
	case ep.Transport == UDP && !udpOK:
		return "UDP port not answering (see the stun check)"
	case ep.Transport != UDP && !tcpOK:
		return "TCP port not reachable (see the tcp check)"
	case ep.Transport == TLS && !tlsOK:
		return "the certificate does not verify, so a client would not connect (see the tls check)"
	}
	return ""
}

// credentialCheck fetches the credential.
func (p *prober) credentialCheck() Result {
	r := Result{Name: "credentials"}
	c, err := p.opts.Credentials.Credential(p.ctx)
	if err != nil {
		r.Status, r.Detail, r.Remedy = Fail, err.Error(), credentialRemedy(err)
		return r
	}
	p.cred = c
	r.Status, r.Detail = Pass, fmt.Sprintf("username %q from %s", c.Username, c.Source)
	if len(c.URIs) > 0 {
		r.Detail += ", uris " + strings.Join(c.URIs, " ")
	}
	return r
}

// credentialRemedy says what to do about a failed credential fetch.
func credentialRemedy(err error) string {
	msg := err.Error()
	switch {
	case isTimeout(err) || errors.Is(err, context.DeadlineExceeded):
		return "the credential endpoint did not answer: the credential service listens on the internal interface " +
			"(port 5062) only; run the probe where it is reachable, or pass --user and --password"
	case isRefused(err):
		return "nothing listens at the credential endpoint's address and port: check the URL"
	case strings.Contains(msg, "certificate signed by unknown authority") || strings.Contains(msg, "x509:"):
		return "the endpoint's certificate does not verify: give its CA with --ca"
	case strings.Contains(msg, "403"):
		return "the service refused this client: the client certificate's DNS name must be on the service's trusted_clients list"
	case strings.Contains(msg, "bad certificate") || strings.Contains(msg, "certificate required") || strings.Contains(msg, "unknown certificate authority"):
		return "the service refused the client certificate: give --cert and --key of a certificate issued by one of the " +
			"service's client CAs"
	}
	return "check the URL and what the endpoint answers (curl -v URL)"
}

// timed runs a check, records its duration and adds its result.
func (p *prober) timed(check func() Result) {
	start := p.opts.Clock.Now()
	r := check()
	if r.Duration == 0 {
		r.Duration = p.opts.Clock.Now().Sub(start)
	}
	p.add(r)
}

// add appends results to the report.
func (p *prober) add(rs ...Result) { p.report.Checks = append(p.report.Checks, rs...) }
