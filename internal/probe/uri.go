package probe

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Transport is how a client reaches an edge's client port.
type Transport string

// The transports of TURN clients (RFC 8656 §3.1).
const (
	UDP Transport = "udp"
	TCP Transport = "tcp"
	TLS Transport = "tls"
)

// Default ports. RFC 7064 §3.1 and RFC 7065 §3 name 3478 for stun: and
// turn:, 5349 for turns:. A bare "turn:host" stands for the client ports of
// an A/V edge instead: UDP 3478 and TCP 443, where TLS and plain TURN share
// the port.
const (
	defaultPort    = 3478
	defaultTLSPort = 5349
	edgeStreamPort = 443
)

// Endpoint is one client port of an edge to probe.
type Endpoint struct {
	// Host is a host name or an IP address (without brackets).
	Host string
	// Port is the port.
	Port uint16
	// Transport is UDP, TCP or TLS.
	Transport Transport
	// STUNOnly marks a stun: URI: a Binding request, no allocation.
	STUNOnly bool
}

// Addr returns host:port for dialling.
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port))) }

// ParseURI returns the endpoints an RFC 7065 TURN URI
// ("turn:host[:port][?transport=udp|tcp]", "turns:host[:port][?transport=tcp]")
// or RFC 7064 STUN URI ("stun:host[:port]") names. A bare "turn:host"
// names the client ports of an A/V edge: UDP 3478, TCP 443 and TLS 443;
// any other URI names exactly one endpoint, with the RFC's default port and
// transport (UDP for turn:, TLS over TCP for turns:). Errors wrap ErrBadURI.
func ParseURI(uri string) ([]Endpoint, error) {
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok {
		return nil, fmt.Errorf("%w %q: want a turn:, turns: or stun: URI", ErrBadURI, uri)
	}
	// RFC 7065 §3.1: the scheme is case-insensitive.
	scheme = strings.ToLower(scheme)
	hostport, query, hasQuery := strings.Cut(rest, "?")
	host, port, err := splitHostPort(hostport)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBadURI, uri, err)
	}
	transport := ""
	if hasQuery {
		// RFC 7065 §3.1: the only query is "transport=" transport.
		key, value, _ := strings.Cut(query, "=")
		if !strings.EqualFold(key, "transport") || (scheme != "turn" && scheme != "turns") {
			return nil, fmt.Errorf("%w %q: the only query is ?transport=, on turn: and turns: URIs", ErrBadURI, uri)
		}
		transport = strings.ToLower(value)
		if transport != "udp" && transport != "tcp" {
			return nil, fmt.Errorf("%w %q: transport must be udp or tcp", ErrBadURI, uri)
		}
	}
	one := func(p uint16, t Transport) []Endpoint {
		if port != 0 {
			p = port
		}
		return []Endpoint{{Host: host, Port: p, Transport: t, STUNOnly: scheme == "stun"}}
	}
	switch scheme {
	case "stun":
		return one(defaultPort, UDP), nil
	case "turn":
		switch {
		case transport == "tcp":
			return one(defaultPort, TCP), nil
		case transport == "udp" || port != 0:
			return one(defaultPort, UDP), nil
		}
		return []Endpoint{
			{Host: host, Port: defaultPort, Transport: UDP},
			{Host: host, Port: edgeStreamPort, Transport: TCP},
			{Host: host, Port: edgeStreamPort, Transport: TLS},
		}, nil
	case "turns":
		if transport == "udp" {
			return nil, fmt.Errorf("%w %q: TURN over DTLS is not supported", ErrBadURI, uri)
		}
		return one(defaultTLSPort, TLS), nil
	}
	return nil, fmt.Errorf("%w %q: scheme %q: want a turn:, turns: or stun: URI", ErrBadURI, uri, scheme)
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port"; port 0
// means none was given.
func splitHostPort(s string) (string, uint16, error) {
	host, portText := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("unclosed [")
		}
		host, portText = s[1:end], s[end+1:]
		if _, err := netip.ParseAddr(host); err != nil || !strings.Contains(host, ":") {
			return "", 0, fmt.Errorf("%q is not an IPv6 address", host)
		}
		if portText != "" && !strings.HasPrefix(portText, ":") {
			return "", 0, fmt.Errorf("junk after ]")
		}
		portText = strings.TrimPrefix(portText, ":")
	} else if strings.Count(s, ":") > 1 {
		return "", 0, fmt.Errorf("an IPv6 address needs brackets: [%s]", s)
	} else if i := strings.IndexByte(s, ':'); i >= 0 {
		host, portText = s[:i], s[i+1:]
	}
	if err := checkHost(host); err != nil {
		return "", 0, err
	}
	if portText == "" {
		if strings.HasSuffix(s, ":") {
			return "", 0, fmt.Errorf("empty port")
		}
		return host, 0, nil
	}
	p, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || p == 0 {
		return "", 0, fmt.Errorf("port %q: want 1-65535", portText)
	}
	return host, uint16(p), nil
}

// checkHost accepts an IP address or a DNS name (RFC 3986 reg-name limited
// to letters, digits, '-', '.' and '_').
func checkHost(h string) error {
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	if h == "" || len(h) > 253 {
		return fmt.Errorf("host %q: want an IP address or a DNS name", h)
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return fmt.Errorf("host %q: want an IP address or a DNS name", h)
		}
	}
	return nil
}
