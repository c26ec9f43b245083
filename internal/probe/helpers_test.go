package probe

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/pki"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server"
	"github.com/avedge/avedge/internal/servertest"
)

const (
	// Relay ports of this package's test edges: 33000–33799 (cmd/avedge
	// takes 33800–33999), in blocks of relayPortSpan, reused after
	// relayPortBlocks edges.
	relayPortBase   = 33000
	relayPortSpan   = 16
	relayPortBlocks = 800 / relayPortSpan
	testRealm       = "probe.test"
)

var relayBlock atomic.Int32

var testSecret = auth.Secret{ID: "k1", Value: []byte("probe-test-secret-0123456789")}

// testEdge is a real avedge server on 127.0.0.1: one UDP listener and one
// TCP listener that serves plain TURN and TLS.
type testEdge struct {
	t        *testing.T
	udp, tcp netip.AddrPort
	ca       *pki.CA
	srv      *server.Server
}

// edgeConfig varies a test edge.
type edgeConfig struct {
	// denyLoopback leaves loopback peers denied (the default policy).
	denyLoopback bool
	// certNames are the names of the TLS certificate; default 127.0.0.1.
	certNames []string
	// perUser is the per-user allocation quota; default 12.
	perUser int
}

func newCA(t *testing.T, name string) *pki.CA {
	t.Helper()
	now := time.Now()
	ca, err := pki.NewCA(name, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// leaf issues a server certificate for names, valid from notBefore to
// notAfter.
func leaf(t *testing.T, ca *pki.CA, names []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	kp, err := ca.Issue(pki.Request{Usage: pki.ServerAuth, Names: names, NotBefore: notBefore, NotAfter: notAfter})
	if err != nil {
		t.Fatal(err)
	}
	return kp.TLS()
}

func startEdge(t *testing.T, cfg edgeConfig) *testEdge {
	t.Helper()
	keyring, err := auth.NewKeyring([]auth.Secret{testSecret})
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.NewAuthenticator(auth.Options{
		Realm:                 testRealm,
		Keyring:               keyring,
		MaxCredentialLifetime: 8 * time.Hour,
		Nonces:                auth.NewNonces([]byte("nonce-key-0123456789abcdef"), 10*time.Minute, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	var allow []netip.Prefix
	if !cfg.denyLoopback {
		allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}
	names := cfg.certNames
	if names == nil {
		names = []string{"127.0.0.1"}
	}
	e := &testEdge{t: t, ca: newCA(t, "probe test CA")}
	certs := new(server.CertStore)
	now := time.Now()
	certs.Set(leaf(t, e.ca, names, now.Add(-time.Minute), now.Add(90*24*time.Hour)))
	perUser := cfg.perUser
	if perUser == 0 {
		perUser = 12
	}
	base := relayPortBase + int(relayBlock.Add(1)%relayPortBlocks)*relayPortSpan
	e.srv, err = server.New(server.Options{
		Software:           "avedge-probe-test",
		Listeners:          []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")},
		StreamListeners:    []server.StreamListener{{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Plain: true, Certs: certs}},
		RelayAddr:          netip.MustParseAddr("127.0.0.1"),
		PortMin:            base,
		PortMax:            base + relayPortSpan - 1,
		Allocation:         allocation.DefaultConfig(),
		AllocationsPerUser: perUser,
		AllocationsTotal:   100,
		Auth:               authn,
		Policy:             policy.NewPeerPolicy(allow, nil, true),
		Workers:            1,
		Logger:             slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	servertest.Serve(t, e.srv)
	e.udp, e.tcp = e.srv.Addrs()[0], e.srv.StreamAddrs()[0]
	return e
}

// uris are the edge's URIs over UDP, TCP and TLS.
func (e *testEdge) uris() []string {
	return []string{
		"turn:" + e.udp.String() + "?transport=udp",
		"turn:" + e.tcp.String() + "?transport=tcp",
		"turns:" + e.tcp.String() + "?transport=tcp",
	}
}

// credential signs a credential for alice expiring at expiry.
func credential(t *testing.T, secret auth.Secret, expiry time.Time) StaticCredential {
	t.Helper()
	u, p, err := auth.Issue(secret, "alice", expiry)
	if err != nil {
		t.Fatal(err)
	}
	return StaticCredential{Username: u, Password: p}
}

// probe runs the probe with opts over the host's (loopback) network.
func probe(t *testing.T, opts Options) *Report {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// want is an expected check: a prefix of its name, its status and a part
// of its remedy (or of its detail, when the remedy is empty).
type want struct {
	name   string
	status Status
	text   string
}

// check asserts the wanted results, each found by name prefix.
func check(t *testing.T, r *Report, wants []want) {
	t.Helper()
	for _, w := range wants {
		var found *Result
		for i := range r.Checks {
			if strings.HasPrefix(r.Checks[i].Name, w.name) {
				found = &r.Checks[i]
				break
			}
		}
		switch {
		case found == nil:
			t.Errorf("no check %q", w.name)
		case found.Status != w.status:
			t.Errorf("%s: %v (%s; remedy %q), want %v", found.Name, found.Status, found.Detail, found.Remedy, w.status)
		case w.text != "" && !strings.Contains(found.Remedy+found.Detail, w.text):
			t.Errorf("%s: detail %q, remedy %q: want %q", found.Name, found.Detail, found.Remedy, w.text)
		}
	}
	if t.Failed() {
		var b strings.Builder
		_ = r.WriteText(&b)
		t.Log("\n" + b.String())
	}
}

// closedPorts returns a UDP and a TCP port on 127.0.0.1 that nothing
// listens on (bound, then closed).
func closedPorts(t *testing.T) (udp, tcp netip.AddrPort) {
	t.Helper()
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	udp = pc.LocalAddr().(*net.UDPAddr).AddrPort()
	pc.Close()
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	tcp = ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()
	return udp, tcp
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }
