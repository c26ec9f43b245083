package probe

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// session is a live allocation of the probe.
type session struct {
	label  string // transport and address, such as "udp 192.0.2.1:3478"
	client *turnClient
	obs    observation
}

// close releases the allocation: a Refresh with LIFETIME 0 (RFC 8656 §7.5)
// over UDP, where it would otherwise live on; over TCP and TLS closing the
// connection ends it.
func (s *session) close() {
	if !s.client.tr.reliable() {
		s.client.timeout = min(s.client.timeout, time.Second)
		_, _, _ = s.client.request(stun.MethodRefresh, stunproto.Lifetime{})
	}
	_ = s.client.tr.close()
}

// openTransport connects to an edge endpoint over its transport; a TLS
// connection verifies the certificate as a client would.
func (p *prober) openTransport(ep Endpoint, server netip.AddrPort) (transport, error) {
	if ep.Transport == UDP {
		pc, err := p.udpTowards(server)
		if err != nil {
			return nil, err
		}
		return newUDPTransport(pc, server), nil
	}
	c, err := p.dialTCP(server)
	if err != nil {
		return nil, fmt.Errorf("probe: connect: %w", err)
	}
	if ep.Transport == TCP {
		return newStreamTransport(c), nil
	}
	tc, err := p.handshake(c, &tls.Config{ServerName: ep.Host, RootCAs: p.opts.RootCAs, MinVersion: tls.VersionTLS12,
		Time: p.opts.Clock.Now})
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("probe: TLS handshake: %w", err)
	}
	return newStreamTransport(tc), nil
}

// allocateCheck allocates a UDP relay over ep's transport with the
// credential (RFC 8656 §7.1), answering the 401 challenge (RFC 8489
// §9.2), and keeps the allocation for the round trip.
func (p *prober) allocateCheck(ep Endpoint, server netip.AddrPort) (Result, *session) {
	label := fmt.Sprintf("%s %v", ep.Transport, server)
	r := Result{Name: "allocate " + label}
	tr, err := p.openTransport(ep, server)
	if err != nil {
		r.Status, r.Detail = Fail, err.Error()
		r.Remedy = "see the tcp and tls checks of this port"
		return r, nil
	}
	c := newTurnClient(tr, p.opts.Clock, p.opts.Timeout)
	c.user, c.pass = p.cred.Username, p.cred.Password
	res, open, err := c.request(stun.MethodAllocate, stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP})
	if err != nil {
		_ = tr.close()
		r.Status = Fail
		r.Detail, r.Remedy = allocateFailure(err, ep, server)
		var se *stunError
		if errors.As(err, &se) && se.code == stun.CodeUnauthorized && se.withCredentials {
			if why := credentialProblem(p.cred, p.opts.Clock.Now(), p.opts.MaxCredentialLifetime); why != "" {
				r.Remedy = why + ", and the edge refuses such credentials: see the clock check"
			}
		}
		return r, nil
	}
	var relayed stunproto.XORRelayedAddress
	var mapped stunproto.XORMappedAddress
	var lifetime stunproto.Lifetime
	if err := relayed.GetFrom(res); err != nil {
		_ = tr.close()
		r.Status, r.Detail = Fail, fmt.Sprintf("Allocate answer without XOR-RELAYED-ADDRESS (%v)", err)
		r.Remedy = "the server on this port does not follow RFC 8656: check which service listens there"
		return r, nil
	}
	_ = mapped.GetFrom(res) // RFC 8656 §7.3 says the server includes it; its absence only loses detail
	_ = lifetime.GetFrom(res)
	s := &session{label: label, client: c, obs: observation{server: server, from: c.from,
		local: tr.local(), mapped: mapped.Addr, relayed: relayed.Addr}}
	r.Status = Pass
	r.Detail = fmt.Sprintf("relayed address %v", relayed.Addr)
	if mapped.Addr.IsValid() {
		r.Detail += fmt.Sprintf(", reflexive %v", mapped.Addr)
	}
	r.Detail += fmt.Sprintf(", lifetime %v, realm %q", lifetime.Duration, c.realm)
	if open {
		r.Status = Warn
		r.Detail = "allocated without credentials: " + r.Detail
		r.Remedy = "the edge is an open relay that anyone can use to hide their traffic: require long-term credentials"
	}
	return r, s
}

// allocateFailure explains a failed Allocate and says what to do.
func allocateFailure(err error, ep Endpoint, server netip.AddrPort) (detail, remedy string) {
	var se *stunError
	if !errors.As(err, &se) {
		if isTimeout(err) || errors.Is(err, ErrTimeout) {
			return err.Error(), fmt.Sprintf("the edge did not answer the Allocate over %s: see the stun and tcp checks; "+
				"a server that answers Binding but not Allocate is a STUN-only server", ep.Transport)
		}
		return err.Error(), "check that an avedge (or another TURN server) listens on " + server.String()
	}
	detail = fmt.Sprintf("Allocate refused: %v", se)
	switch se.code {
	case stun.CodeUnauthorized:
		if !se.withCredentials {
			return detail, "the edge sent a 401 without a usable challenge: it does not follow RFC 8489 §9.2"
		}
		return detail + " after credentials", "wrong username or password, or secret mismatch: the credential's issuer must " +
			"sign with a secret the edge has (auth.secrets, the same on every node of a pool); an expired credential " +
			"is refused the same way (see the clock check)"
	case stun.CodeStaleNonce:
		return detail + " twice", "nonce issue: the edge refused the nonce it had just issued: the nodes of a pool behind one " +
			"address must share the nonce key (auth.nonce_key), and their clocks must agree (NTP)"
	case stun.CodeAllocMismatch:
		return detail, "an allocation already exists for this client address and port (a NAT reusing a mapping, or a " +
			"previous client): wait for it to expire (lifetime, default 10 minutes) and probe again"
	case stun.CodeWrongCredentials:
		return detail, "the allocation of this 5-tuple belongs to another username: wait for it to expire and probe again"
	case stun.CodeAllocQuotaReached:
		return detail, "this user holds as many allocations as the edge allows (quotas.allocations_per_user): end some, or " +
			"raise the quota"
	case stun.CodeInsufficientCapacity:
		return detail, "the edge is out of relay ports or at its total allocation limit (relay.ports, " +
			"quotas.allocations_total): add capacity or nodes"
	case stun.CodeForbidden:
		return detail, "the edge refuses this request from this client (403): check the edge's log for the reason"
	case stun.CodeUnsupportedTransProto:
		return detail, "the edge does not relay UDP for this client: it is not an A/V edge configured for media relay"
	case stun.CodeAddrFamilyNotSupported:
		return detail, "the edge has no relay address of the requested family: set relay.address (IPv4)"
	case stun.CodeBadRequest, stun.CodeUnknownAttribute:
		return detail, "the edge did not understand the probe's Allocate: it is not an RFC 8656 TURN server, or an old one"
	case stun.CodeServerError:
		return detail, "the edge failed internally: check its log"
	}
	return detail, "see RFC 8656 §19 for this error code and the edge's log for the reason"
}
