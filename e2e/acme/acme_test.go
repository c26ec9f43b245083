package acme

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v4"

	"github.com/avedge/avedge/e2e/internal/loopback"
	"github.com/avedge/avedge/e2e/internal/pebble"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/edge"
)

// Test constants.
const (
	domain   = "turn.example.com"
	user     = "alice"
	password = "acme-test-password"
	// ioTimeout bounds every read of the tests.
	ioTimeout = 5 * time.Second
	// certTimeout bounds the wait for an issuance or a renewal.
	certTimeout = 30 * time.Second
)

// startEdge runs an edge with one TLS listener on tlsPort whose
// certificate comes from p by ACME (with HTTP-01 on httpListen when set),
// relaying on ports, its state in a new directory which it returns.
func startEdge(t *testing.T, p *pebble.CA, tlsPort int, httpListen, ports string) string {
	t.Helper()
	state := t.TempDir()
	t.Setenv("STATE_DIRECTORY", state)
	extra := ""
	if httpListen != "" {
		extra = "\n        http_listen: " + httpListen
	}
	yaml := fmt.Sprintf(`realm: avedge.test
listeners:
  - protocol: tls
    address: 127.0.0.1:%d
    tls:
      acme:
        domains: [%s]
        email: ops@example.com
        directory: %s
        ca_roots: %s%s
relay:
  address: 127.0.0.1
  ports: "%s"
auth:
  static_users:
    - {username: %s, password: %s}
peers:
  allow: [127.0.0.0/8]
`, tlsPort, domain, p.Directory, p.CARoots, extra, ports, user, password)
	path := filepath.Join(t.TempDir(), "avedge.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	w := &testWriter{t: t, name: "edge"}
	e, err := edge.Build(cfg, edge.Deps{Logger: slog.New(slog.NewTextHandler(w, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("edge: %v", err)
		}
		e.Close()
		w.stop()
	})
	return state
}

// turnALPN is the ALPN protocol of TURN over TLS.
var turnALPN = []string{"stun.turn"}

// waitCert waits until the edge at addr serves a certificate, verified
// to Pebble's root, whose serial differs from not (nil: any), and returns
// its serial.
func waitCert(t *testing.T, p *pebble.CA, addr string, not *big.Int) *big.Int {
	t.Helper()
	st := p.WaitServed(t, addr, domain, turnALPN, func(c *x509.Certificate) bool {
		return not == nil || c.SerialNumber.Cmp(not) != 0
	}, certTimeout)
	if st.NegotiatedProtocol != "stun.turn" {
		t.Fatalf("negotiated %q, want stun.turn", st.NegotiatedProtocol)
	}
	return st.PeerCertificates[0].SerialNumber
}

// turnClient is pion/turn's client over a TLS connection to addr that
// trusts Pebble's root, allocated.
func turnClient(t *testing.T, p *pebble.CA, addr string) net.PacketConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	c, err := p.Dial(ctx, addr, domain, turnALPN...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	tc, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: addr, TURNServerAddr: addr, Conn: turn.NewSTUNConn(c),
		Username: user, Password: password, Realm: "avedge.test", LoggerFactory: lf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	if err := tc.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := tc.Allocate()
	if err != nil {
		t.Fatalf("Allocate over TLS: %v", err)
	}
	t.Cleanup(func() { relay.Close() })
	return relay
}

// wantStored checks the certificate file and the account key in the
// state directory, under the CA's host: mode 0600, in directories 0700.
func wantStored(t *testing.T, state, directory string) {
	t.Helper()
	u, err := url.Parse(directory)
	if err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(state, "acme", strings.ReplaceAll(u.Host, ":", "_"))
	for path, want := range map[string]os.FileMode{
		filepath.Join(state, "acme"): 0o700, sub: 0o700,
		filepath.Join(sub, "account.key"): 0o600, filepath.Join(sub, domain+".pem"): 0o600,
	} {
		info, err := os.Stat(path)
		if err != nil {
			t.Error(err)
			continue
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %04o, want %04o", path, info.Mode().Perm(), want)
		}
	}
}

// TestTLSALPN01Renewal: the edge obtains its certificate by TLS-ALPN-01
// on its TLS listener alone (Pebble's HTTP-01 port has no listener),
// serves it to clients offering stun.turn, and pion/turn allocates and
// relays over TLS; Pebble's 15 s lifetime makes the edge renew after
// about 10 s, and the served certificate changes while that allocation
// keeps relaying.
func TestTLSALPN01Renewal(t *testing.T) {
	tlsPort := loopback.FreePort(t)
	p := pebble.Start(t, pebble.Options{TLSPort: tlsPort, HTTPPort: loopback.FreePort(t), Validity: 15 * time.Second})
	state := startEdge(t, p, tlsPort, "", "38000-38063")
	addr := fmt.Sprintf("127.0.0.1:%d", tlsPort)

	first := waitCert(t, p, addr, nil)
	wantStored(t, state, p.Directory)
	echo := loopback.UDPEcho(t, "127.0.0.2")
	relay := turnClient(t, p, addr)
	loopback.EchoRound(t, relay, echo, []byte("before renewal"), ioTimeout)

	second := waitCert(t, p, addr, first)
	t.Logf("renewed: serial %x, then %x", first, second)
	loopback.EchoRound(t, relay, echo, []byte("after renewal, same allocation"), ioTimeout)
}

// TestHTTP01: with http_listen the edge answers HTTP-01 there (Pebble's
// TLS-ALPN-01 port has no listener, so only HTTP-01 can pass) and serves
// the certificate on its TLS listener.
func TestHTTP01(t *testing.T) {
	tlsPort, httpPort := loopback.FreePort(t), loopback.FreePort(t)
	p := pebble.Start(t, pebble.Options{TLSPort: loopback.FreePort(t), HTTPPort: httpPort, Validity: time.Hour})
	state := startEdge(t, p, tlsPort, fmt.Sprintf("127.0.0.1:%d", httpPort), "38064-38127")
	addr := fmt.Sprintf("127.0.0.1:%d", tlsPort)
	waitCert(t, p, addr, nil)
	wantStored(t, state, p.Directory)
	relay := turnClient(t, p, addr)
	loopback.EchoRound(t, relay, loopback.UDPEcho(t, "127.0.0.2"), []byte("over an HTTP-01 certificate"), ioTimeout)
}
