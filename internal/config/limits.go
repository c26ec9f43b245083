package config

import "math"

// Limits bound what unauthenticated clients can make the edge do.
type Limits struct {
	// UnauthenticatedRate and UnauthenticatedBurst are a token bucket per
	// source address (IPv4 address or IPv6 /64) and per worker: Binding
	// requests, requests without MESSAGE-INTEGRITY and 401/438 answers
	// each take a token; without one the request is dropped unanswered.
	// UnauthenticatedRate is per second; 0 disables the limit.
	UnauthenticatedRate  float64 `json:"unauthenticated_rate"`
	UnauthenticatedBurst int     `json:"unauthenticated_burst"`
	// TCPConnectionRate and TCPConnectionBurst are a token bucket per
	// source (IPv4 address or IPv6 /64) of new TCP and TLS client
	// connections, shared by the listeners: a connection without a
	// token is closed as soon as it is accepted, before its TLS
	// handshake. TCPConnectionRate is per second; 0 disables the limit.
	TCPConnectionRate  float64 `json:"tcp_connection_rate"`
	TCPConnectionBurst int     `json:"tcp_connection_burst"`
}

const (
	// defaultUnauthenticatedRate and defaultUnauthenticatedBurst: a browser
	// sends a handful of unauthenticated requests per allocation (a Binding
	// per STUN server, an Allocate answered 401 per TURN server and
	// transport, a 438 when a nonce expires) and a Binding every ~25 s to
	// keep a server-reflexive candidate; 20 covers several peer
	// connections set up at once, and 10 a second is far above a host's
	// steady rate.
	defaultUnauthenticatedRate  = 10
	defaultUnauthenticatedBurst = 20
	maxUnauthenticatedRate      = 1e6
	maxUnauthenticatedBurst     = 1e6
	// defaultTCPConnectionRate and defaultTCPConnectionBurst: clients
	// behind one NAT share a source, and a browser opens one or two
	// TCP/TLS connections per TURN server as a call starts; 100 at once
	// and 20 a second after that carry a large office starting its
	// meetings on the hour (which needs a higher
	// quotas.tcp_connections_per_source first), while one source makes
	// the edge complete at most 20 TLS handshakes a second.
	defaultTCPConnectionRate  = 20
	defaultTCPConnectionBurst = 100
)

// defaultLimits returns the limits defaults.
func defaultLimits() Limits {
	return Limits{
		UnauthenticatedRate: defaultUnauthenticatedRate, UnauthenticatedBurst: defaultUnauthenticatedBurst,
		TCPConnectionRate: defaultTCPConnectionRate, TCPConnectionBurst: defaultTCPConnectionBurst,
	}
}

// limits decodes the limits section.
func (p *parser) limits(e entry, dst *Limits) error {
	_, err := p.mapping(e, []field{
		{"unauthenticated_rate", func(e entry) error {
			v, err := p.rateOrZero(e, maxUnauthenticatedRate)
			dst.UnauthenticatedRate = v
			if err == nil && v == 0 {
				p.warn(e.path, "0 disables the per-source limit of unauthenticated requests: the edge answers every Binding and 401, to any source address, forged or not")
			}
			return err
		}},
		{"unauthenticated_burst", func(e entry) error {
			n, err := p.integer(e, 1, maxUnauthenticatedBurst)
			dst.UnauthenticatedBurst = n
			return err
		}},
		{"tcp_connection_rate", func(e entry) error {
			v, err := p.rateOrZero(e, maxUnauthenticatedRate)
			dst.TCPConnectionRate = v
			if err == nil && v == 0 {
				p.warn(e.path, "0 disables the per-source rate of new TCP and TLS connections: one source may make the edge perform TLS handshakes as fast as it connects")
			}
			return err
		}},
		{"tcp_connection_burst", func(e entry) error {
			n, err := p.integer(e, 1, maxUnauthenticatedBurst)
			dst.TCPConnectionBurst = n
			return err
		}},
	})
	return err
}

// rateOrZero returns the number in e, 0 or above 0 and at most hi.
func (p *parser) rateOrZero(e entry, hi float64) (float64, error) {
	v, err := p.scalar(e, "a number")
	if err != nil {
		return 0, err
	}
	var f float64
	if (v.ShortTag() != "!!int" && v.ShortTag() != "!!float") || v.Decode(&f) != nil {
		return 0, p.fail(e, "%q: expected a number", v.Value)
	}
	if !(f >= 0 && f <= hi) || math.IsInf(f, 0) {
		return 0, p.fail(e, "%s: must be between 0 (no limit) and %g", v.Value, hi)
	}
	return f, nil
}
