package server

import (
	"crypto/tls"
	"errors"
	"net"
	"testing"
)

// dialTLS completes a TLS handshake with the stream edge as cfg says
// (over the test CA's client configuration), returning the connection or
// the handshake's error.
func (se *streamEdge) dialTLS(mod func(*tls.Config)) (*tls.Conn, error) {
	se.t.Helper()
	cfg := se.ca.clientConfig()
	if mod != nil {
		mod(cfg)
	}
	raw, err := net.Dial("tcp", se.tcp.String())
	if err != nil {
		se.t.Fatal(err)
	}
	se.t.Cleanup(func() { raw.Close() })
	c := tls.Client(raw, cfg)
	if err := c.Handshake(); err != nil {
		return nil, err
	}
	return c, nil
}

// TestTLSALPN checks the RFC 7443 protocols: a client offering stun.turn or
// stun.nat-discovery gets it, one offering nothing or only other protocols
// is served TURN without ALPN (Go's default would refuse the latter with
// no_application_protocol), and each is answered a Binding request on the
// connection.
func TestTLSALPN(t *testing.T) {
	se := newStreamEdge(t, nil)
	for _, tc := range []struct {
		name    string
		offered []string
		want    string
	}{
		{"turn", []string{"stun.turn"}, "stun.turn"},
		{"nat discovery", []string{"stun.nat-discovery"}, "stun.nat-discovery"},
		{"turn among others", []string{"h2", "stun.turn", "http/1.1"}, "stun.turn"},
		{"none", nil, ""},
		{"only others", []string{"h2", "http/1.1"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := se.dialTLS(func(cfg *tls.Config) { cfg.NextProtos = tc.offered })
			if err != nil {
				t.Fatalf("handshake offering %q: %v", tc.offered, err)
			}
			if got := c.ConnectionState().NegotiatedProtocol; got != tc.want {
				t.Fatalf("offering %q negotiated %q, want %q", tc.offered, got, tc.want)
			}
			req := bindingRequest(t)
			if _, err := c.Write(req.Raw); err != nil {
				t.Fatal(err)
			}
			wantBindingResponse(t, c, req)
		})
	}
}

// TestTLSMinVersion checks tls.min_version: TLS 1.2 is accepted by
// default and refused with MinVersion TLS 1.3, which TLS 1.3 clients pass.
func TestTLSMinVersion(t *testing.T) {
	tls12 := func(cfg *tls.Config) { cfg.MaxVersion = tls.VersionTLS12 }
	se := newStreamEdge(t, nil)
	c, err := se.dialTLS(tls12)
	if err != nil || c.ConnectionState().Version != tls.VersionTLS12 {
		t.Fatalf("TLS 1.2 client on a default listener: %v", err)
	}

	se13 := newStreamEdge(t, func(o *Options) { o.StreamListeners[0].TLS.MinVersion = tls.VersionTLS13 })
	if _, err := se13.dialTLS(tls12); err == nil {
		t.Fatal("a TLS 1.2 client completed a handshake with a TLS 1.3 listener")
	}
	c, err = se13.dialTLS(nil)
	if err != nil || c.ConnectionState().Version != tls.VersionTLS13 {
		t.Fatalf("TLS 1.3 client on a TLS 1.3 listener: %v", err)
	}
	req := bindingRequest(t)
	if _, err := c.Write(req.Raw); err != nil {
		t.Fatal(err)
	}
	wantBindingResponse(t, c, req)
}

// TestTLSACMEChallenge checks TLS-ALPN-01 routing (RFC 8737): a ClientHello
// offering acme-tls/1 gets the challenge certificate and that protocol,
// other clients the listener's certificate; without ACMEChallenge the
// handshake fails.
func TestTLSACMEChallenge(t *testing.T) {
	acmeOnly := func(cfg *tls.Config) { cfg.NextProtos = []string{ALPNACME}; cfg.InsecureSkipVerify = true }

	plain := newStreamEdge(t, nil)
	if _, err := plain.dialTLS(acmeOnly); err == nil {
		t.Fatal("acme-tls/1 negotiated on a listener without ACME")
	}

	challenge := newTestCA(t).leaf()
	var asked string
	se := newStreamEdge(t, func(o *Options) {
		o.StreamListeners[0].TLS.ACMEChallenge = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			asked = hello.ServerName
			if hello.ServerName != "turn.example.com" {
				return nil, errors.New("no challenge pending")
			}
			return &challenge, nil
		}
	})
	c, err := se.dialTLS(func(cfg *tls.Config) { acmeOnly(cfg); cfg.ServerName = "turn.example.com" })
	if err != nil {
		t.Fatalf("acme-tls/1 handshake: %v", err)
	}
	st := c.ConnectionState()
	if st.NegotiatedProtocol != ALPNACME || asked != "turn.example.com" || !st.PeerCertificates[0].Equal(challenge.Leaf) {
		t.Fatalf("acme-tls/1 handshake negotiated %q, asked for %q, got certificate %v; want the challenge certificate",
			st.NegotiatedProtocol, asked, st.PeerCertificates[0].Subject)
	}
	if _, err := se.dialTLS(func(cfg *tls.Config) { acmeOnly(cfg); cfg.ServerName = "other.example.com" }); err == nil {
		t.Fatal("acme-tls/1 handshake for a name without a pending challenge succeeded")
	}
	c, err = se.dialTLS(func(cfg *tls.Config) { cfg.NextProtos = []string{ALPNTURN} })
	if err != nil {
		t.Fatalf("TURN client on an ACME listener: %v", err)
	}
	if st := c.ConnectionState(); st.NegotiatedProtocol != ALPNTURN || st.PeerCertificates[0].Equal(challenge.Leaf) {
		t.Fatalf("TURN client negotiated %q with the challenge certificate %v", st.NegotiatedProtocol, st.PeerCertificates[0].Equal(challenge.Leaf))
	}
}
