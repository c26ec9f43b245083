package edgetest

import (
	"strings"
	"testing"
)

// ICEServer is one entry of an RTCConfiguration's iceServers, in its JSON
// shape: {"urls":[...],"username":...,"credential":...}.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username"`
	Credential string   `json:"credential"`
}

// uriMatches tells which URIs belong to a transport name of ICEServers.
var uriMatches = map[string]func(uri string) bool{
	"udp": func(u string) bool { return strings.HasPrefix(u, "turn:") && strings.HasSuffix(u, "?transport=udp") },
	"tcp": func(u string) bool { return strings.HasPrefix(u, "turn:") && strings.HasSuffix(u, "?transport=tcp") },
	"tls": func(u string) bool { return strings.HasPrefix(u, "turns:") },
}

// ICEServers returns a fresh credential for identity with its URIs
// filtered to one transport ("udp", "tcp" or "tls"), ready to put into an
// RTCIceServer. The test fails for another transport name or when the
// credential has no URI of the transport.
func (e *Edge) ICEServers(tb testing.TB, identity, transport string) ICEServer {
	tb.Helper()
	match, ok := uriMatches[transport]
	if !ok {
		tb.Fatalf("edgetest: transport %q: want udp, tcp or tls", transport)
	}
	c := e.Credentials(tb, identity)
	s := ICEServer{Username: c.Username, Credential: c.Password}
	for _, u := range c.URIs {
		if match(u) {
			s.URLs = append(s.URLs, u)
		}
	}
	if len(s.URLs) == 0 {
		tb.Fatalf("edgetest: no %s URI among %q", transport, c.URIs)
	}
	return s
}
