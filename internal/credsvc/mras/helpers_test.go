package mras

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/pki"
)

const (
	testRealm  = "avedge.test"
	trustedApp = "app.example.com"
	ioTimeout  = 5 * time.Second
)

var (
	secretA = auth.Secret{ID: "a", Value: []byte("secret-a-0123456789abcdef")}
)

// testPKI is a CA with certificates issued relative to a start time.
type testPKI struct {
	t     testing.TB
	ca    *pki.CA
	start time.Time
}

func newTestPKI(t testing.TB, start time.Time) *testPKI {
	t.Helper()
	ca, err := pki.NewCA("test CA", start.Add(-time.Hour), start.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return &testPKI{t: t, ca: ca, start: start}
}

// issue returns a certificate of usage for names valid from an hour
// before the start for valid.
func (p *testPKI) issue(usage pki.Usage, cn string, names []string, valid time.Duration) tls.Certificate {
	p.t.Helper()
	kp, err := p.ca.Issue(pki.Request{Usage: usage, CommonName: cn, Names: names,
		NotBefore: p.start.Add(-time.Hour), NotAfter: p.start.Add(valid)})
	if err != nil {
		p.t.Fatal(err)
	}
	return kp.TLS()
}

func (p *testPKI) client(names ...string) tls.Certificate {
	return p.issue(pki.ClientAuth, "", names, 30*24*time.Hour)
}

func (p *testPKI) server() tls.Certificate {
	return p.issue(pki.ServerAuth, "", []string{"localhost", "127.0.0.1"}, 30*24*time.Hour)
}

// logSink is a slog.Handler that keeps every record for the test to read.
type logSink struct{ ch chan slog.Record }

func newLogSink() *logSink { return &logSink{ch: make(chan slog.Record, 4096)} }

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *logSink) WithGroup(string) slog.Handler            { return s }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	s.ch <- r.Clone()
	return nil
}

// text renders a record as "msg k=v k=v".
func text(r slog.Record) string {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	return b.String()
}

// wait returns the first record (rendered by text) containing every one of
// parts, failing after ioTimeout.
func (s *logSink) wait(t *testing.T, parts ...string) string {
	t.Helper()
	deadline := time.After(ioTimeout)
	var seen []string
	for {
		select {
		case r := <-s.ch:
			line := text(r)
			seen = append(seen, line)
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(line, p)
			}
			if ok {
				return line
			}
		case <-deadline:
			t.Fatalf("no log line with %q; got:\n%s", parts, strings.Join(seen, "\n"))
			return ""
		}
	}
}

// drain returns every record logged so far.
func (s *logSink) drain() []string {
	var out []string
	for {
		select {
		case r := <-s.ch:
			out = append(out, text(r))
		default:
			return out
		}
	}
}

// service is a credential service on loopback with a fake clock, MRAS
// switched on.
type service struct {
	t       *testing.T
	pki     *testPKI
	clk     *clock.Fake
	keyring *auth.Keyring
	handler *credsvc.Handler
	srv     *credsvc.Server
	url     string
	log     *logSink
}

// testRelays are the relays the test services hand out.
var testRelays = []credsvc.Relay{
	{Host: "turn.example.com", UDPPort: 3478, TCPPort: 443, TLSPort: 5349, Location: credsvc.Internet},
	{Host: "10.1.2.3", UDPPort: 3478, Location: credsvc.Intranet},
	{Host: "fd00::3", UDPPort: 3478, Location: credsvc.Intranet},
}

// testOptions returns handler options for clk and keyring.
func testOptions(clk clock.Clock, keyring *auth.Keyring, log *slog.Logger) credsvc.Options {
	return credsvc.Options{
		Keyring: keyring,
		Realm:   testRealm,
		MaxTTL:  8 * time.Hour,
		Relays:  testRelays,
		Trusted: []string{trustedApp},
		Rate:    credsvc.Rate{PerSecond: 5, Burst: 20},
		Clock:   clk,
		Logger:  log,
	}
}

// startService runs a service with MRAS; mod and smod may change its
// options.
func startService(t *testing.T, mod func(*credsvc.Options), smod func(*credsvc.ServerOptions)) *service {
	t.Helper()
	start := time.Now().Truncate(time.Second)
	s := &service{t: t, pki: newTestPKI(t, start), clk: clock.NewFake(start), log: newLogSink()}
	var err error
	if s.keyring, err = auth.NewKeyring([]auth.Secret{secretA}); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(s.log)
	opts := testOptions(s.clk, s.keyring, logger)
	if mod != nil {
		mod(&opts)
		// mod may bring the clock and keyring it shares with a relay.
		s.clk, s.keyring = opts.Clock.(*clock.Fake), opts.Keyring
	}
	if s.handler, err = credsvc.NewHandler(opts); err != nil {
		t.Fatal(err)
	}
	sopts := credsvc.ServerOptions{
		Addr:        netip.MustParseAddrPort("127.0.0.1:0"),
		Certificate: s.pki.server(),
		ClientCAs:   s.pki.ca.Pool(),
		Handler:     s.handler,
		MRAS:        New(s.handler),
		Clock:       s.clk,
		Logger:      logger,
	}
	if smod != nil {
		smod(&sopts)
	}
	if s.srv, err = credsvc.NewServer(sopts); err != nil {
		t.Fatal(err)
	}
	s.url = "https://" + s.srv.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(ioTimeout):
			t.Error("service did not stop")
		}
	})
	return s
}

// tlsConfig returns a client TLS configuration presenting cert (none when
// its Certificate is empty) and trusting the service's CA.
func (s *service) tlsConfig(cert tls.Certificate) *tls.Config {
	c := &tls.Config{RootCAs: s.pki.ca.Pool(), ServerName: "127.0.0.1"}
	if len(cert.Certificate) > 0 {
		c.Certificates = []tls.Certificate{cert}
	}
	return c
}

// httpClient returns an HTTPS client presenting cert.
func (s *service) httpClient(cert tls.Certificate) *http.Client {
	tr := &http.Transport{TLSClientConfig: s.tlsConfig(cert)}
	s.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: ioTimeout}
}

// postJSON posts body to the service's credentials endpoint with client.
func (s *service) postJSON(client *http.Client, body string) (*http.Response, []byte, error) {
	resp, err := client.Post(s.url+credsvc.CredentialsPath, "application/json", strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// handlerEnv is a Service answering requests without sockets.
type handlerEnv struct {
	h   *credsvc.Handler
	svc *Service
	log *logSink
	app *x509.Certificate // a trusted client certificate
}

// newHandlerEnv returns a Service on a Handler with the test options,
// which mod may change.
func newHandlerEnv(t testing.TB, mod func(*credsvc.Options)) *handlerEnv {
	t.Helper()
	start := time.Unix(1_800_000_000, 0)
	e := &handlerEnv{log: newLogSink()}
	keyring, err := auth.NewKeyring([]auth.Secret{secretA})
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions(clock.NewFake(start), keyring, slog.New(e.log))
	if mod != nil {
		mod(&opts)
	}
	if e.h, err = credsvc.NewHandler(opts); err != nil {
		t.Fatal(err)
	}
	e.svc = New(e.h)
	e.app = newTestPKI(t, start).client(trustedApp).Leaf
	return e
}
