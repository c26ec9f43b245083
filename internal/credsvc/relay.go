package credsvc

import (
	"net"
	"strconv"
)

// Relay is one address where clients reach the relay; a port of 0 is not
// offered.
type Relay struct {
	// Host is a host name or IP address.
	Host string `json:"host"`
	// UDPPort is the port of TURN over UDP.
	UDPPort int `json:"udp_port"`
	// TCPPort is the port of TURN over TCP.
	TCPPort int `json:"tcp_port"`
	// TLSPort is the port of TURN over TLS.
	TLSPort int `json:"tls_port"`
	// Location is the location whose clients are given this address.
	Location Location `json:"location"`
}

// uris returns the RFC 7065 URIs of relays: UDP first, then TCP, then
// TLS, the order in which clients should prefer them.
func uris(relays []Relay) []string {
	out := make([]string, 0, len(relays))
	for _, t := range []struct {
		scheme, transport string
		port              func(Relay) int
	}{
		{"turn", "udp", func(r Relay) int { return r.UDPPort }},
		{"turn", "tcp", func(r Relay) int { return r.TCPPort }},
		{"turns", "tcp", func(r Relay) int { return r.TLSPort }},
	} {
		for _, r := range relays {
			if p := t.port(r); p != 0 {
				out = append(out, t.scheme+":"+net.JoinHostPort(r.Host, strconv.Itoa(p))+"?transport="+t.transport)
			}
		}
	}
	return out
}
