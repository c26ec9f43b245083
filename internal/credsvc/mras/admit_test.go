package mras

import (
	"strings"
	"testing"

	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/credsvctest"
)

// TestMRASUntrustedClosed: a client whose certificate the CA signed but
// whose name is not trusted is closed as soon as its connection is SIP,
// before any keep-alive ping or request is answered, and counted and
// logged as refused.
func TestMRASUntrustedClosed(t *testing.T) {
	s := startService(t, nil, nil)
	for _, first := range []string{"\r\n\r\n", goldenRequest(1)} {
		c := s.dialSIP(s.PKI.Client("intruder.example.com"))
		c.send(first)
		c.wantClosed()
	}
	if n := s.Server.Stats().Count(credsvc.EndpointMRAS, credsvc.OutcomeUntrustedClient); n != 2 {
		t.Errorf("%d untrusted clients counted, want 2", n)
	}
	s.Log.Wait(t, "request refused", "intruder.example.com", "is not on the trusted client list; connection closed", "endpoint=mras")
	// A trusted client on the same service is served.
	if r := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp)).roundTrip(goldenRequest(1)); r.statusLine != "SIP/2.0 200 OK" {
		t.Fatalf("trusted client: %s", r.statusLine)
	}
}

// TestMRASConnectionsPerClient: one trusted client name holds at most
// the Service's SIP connections; a further one is closed unanswered and
// counted, and a connection that ends gives its place back.
func TestMRASConnectionsPerClient(t *testing.T) {
	s := startService(t, nil, func(o *credsvc.ServerOptions) { o.MRAS.(*Service).perClient = 2 })
	cert := s.PKI.Client(credsvctest.TrustedApp)
	var open []*sipClient
	for range 2 {
		c := s.dialSIP(cert)
		if r := c.roundTrip(goldenRequest(1)); r.statusLine != "SIP/2.0 200 OK" {
			t.Fatalf("connection within the limit: %s", r.statusLine)
		}
		open = append(open, c)
	}
	over := s.dialSIP(cert)
	over.send("\r\n\r\n")
	over.wantClosed()
	if n := s.Server.Stats().Count(credsvc.EndpointMRAS, credsvc.OutcomeRateLimited); n != 1 {
		t.Errorf("%d refused for the connection limit, want 1", n)
	}
	// A folded header closes the connection after its 400; the server
	// has given the place back once the client reads the close.
	folded := strings.Replace(goldenRequest(2), "Max-Forwards: 69\r\n", "Max-Forwards:\r\n 69\r\n", 1)
	if r := open[0].roundTrip(folded); r.statusLine != "SIP/2.0 400 Bad Request" {
		t.Fatalf("folded header: %s", r.statusLine)
	}
	open[0].wantClosed()
	if r := s.dialSIP(cert).roundTrip(goldenRequest(3)); r.statusLine != "SIP/2.0 200 OK" {
		t.Fatalf("after a connection ended: %s", r.statusLine)
	}
}
