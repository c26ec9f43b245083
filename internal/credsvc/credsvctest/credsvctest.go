// Package credsvctest holds what the tests of the credential service and
// of its MRAS dialect share: a test PKI, a log sink the test reads back,
// handler options with fixed relays, and a service on loopback with a fake
// clock. Like net/http/httptest, it is imported only by tests; the tests
// of package credsvc that use it are in package credsvc_test.
package credsvctest

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
	"github.com/avedge/avedge/internal/servertest"
)

const (
	// Realm is the realm of the test services.
	Realm = "avedge.test"
	// TrustedApp is the client name on the test services' trusted list.
	TrustedApp = "app.example.com"
	// IOTimeout bounds the tests' reads, requests and log waits.
	IOTimeout = 5 * time.Second
)

var (
	// SecretA is the secret in the test services' keyring.
	SecretA = auth.Secret{ID: "a", Value: []byte("secret-a-0123456789abcdef")}
	// SecretB is a second secret, for rotations.
	SecretB = auth.Secret{ID: "b", Value: []byte("secret-b-0123456789abcdef")}
)

// PKI is a CA with certificates issued relative to a start time.
type PKI struct {
	CA    *pki.CA
	tb    testing.TB
	start time.Time
}

// NewPKI returns a CA valid from an hour before start for a year.
func NewPKI(tb testing.TB, start time.Time) *PKI {
	tb.Helper()
	ca, err := pki.NewCA("test CA", start.Add(-time.Hour), start.Add(365*24*time.Hour))
	if err != nil {
		tb.Fatal(err)
	}
	return &PKI{CA: ca, tb: tb, start: start}
}

// Issue returns a certificate of usage for names valid from an hour
// before the start for valid.
func (p *PKI) Issue(usage pki.Usage, cn string, names []string, valid time.Duration) tls.Certificate {
	p.tb.Helper()
	kp, err := p.CA.Issue(pki.Request{Usage: usage, CommonName: cn, Names: names,
		NotBefore: p.start.Add(-time.Hour), NotAfter: p.start.Add(valid)})
	if err != nil {
		p.tb.Fatal(err)
	}
	return kp.TLS()
}

// Client returns a client certificate for names, valid for 30 days.
func (p *PKI) Client(names ...string) tls.Certificate {
	return p.Issue(pki.ClientAuth, "", names, 30*24*time.Hour)
}

// Server returns a server certificate for localhost and 127.0.0.1, valid
// for 30 days.
func (p *PKI) Server() tls.Certificate {
	return p.Issue(pki.ServerAuth, "", []string{"localhost", "127.0.0.1"}, 30*24*time.Hour)
}

// Pool returns a pool of certs.
func Pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// LogSink is a slog.Handler that keeps every record for the test to read.
type LogSink struct{ ch chan slog.Record }

// NewLogSink returns a sink that holds up to 4096 records.
func NewLogSink() *LogSink { return &LogSink{ch: make(chan slog.Record, 4096)} }

// Enabled reports true for every level.
func (s *LogSink) Enabled(context.Context, slog.Level) bool { return true }

// WithAttrs returns s: the sink keeps records as they are logged.
func (s *LogSink) WithAttrs([]slog.Attr) slog.Handler { return s }

// WithGroup returns s: the sink keeps records as they are logged.
func (s *LogSink) WithGroup(string) slog.Handler { return s }

// Handle keeps r.
func (s *LogSink) Handle(_ context.Context, r slog.Record) error {
	s.ch <- r.Clone()
	return nil
}

// Text renders a record as "msg k=v k=v".
func Text(r slog.Record) string {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	return b.String()
}

// Wait returns the first record (rendered by Text) containing every one
// of parts, failing after IOTimeout.
func (s *LogSink) Wait(t *testing.T, parts ...string) string {
	t.Helper()
	deadline := time.After(IOTimeout)
	var seen []string
	for {
		select {
		case r := <-s.ch:
			line := Text(r)
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

// Drain returns every record logged so far, rendered by Text.
func (s *LogSink) Drain() []string {
	var out []string
	for {
		select {
		case r := <-s.ch:
			out = append(out, Text(r))
		default:
			return out
		}
	}
}

// Relays are the relays the test services hand out.
var Relays = []credsvc.Relay{
	{Host: "turn.example.com", UDPPort: 3478, TCPPort: 443, TLSPort: 5349, Location: credsvc.Internet},
	{Host: "10.1.2.3", UDPPort: 3478, Location: credsvc.Intranet},
	{Host: "fd00::3", UDPPort: 3478, Location: credsvc.Intranet},
}

// HandlerOptions returns the test handler options for clk, keyring and
// log: Realm, Relays, TrustedApp trusted, an 8-hour maximum TTL and 5
// requests a second with bursts of 20.
func HandlerOptions(clk clock.Clock, keyring *auth.Keyring, log *slog.Logger) credsvc.Options {
	return credsvc.Options{
		Keyring: keyring,
		Realm:   Realm,
		MaxTTL:  8 * time.Hour,
		Relays:  Relays,
		Trusted: []string{TrustedApp},
		Rate:    credsvc.Rate{PerSecond: 5, Burst: 20},
		Clock:   clk,
		Logger:  log,
	}
}

// HandlerEnv is a Handler with the test options, driven without sockets.
type HandlerEnv struct {
	Handler *credsvc.Handler
	Clock   *clock.Fake // at 1_800_000_000 s, unless the options bring another
	Keyring *auth.Keyring
	Log     *LogSink
	PKI     *PKI
	App     *x509.Certificate // a trusted client certificate
}

// NewHandlerEnv returns a Handler with the test options, which mod may
// change.
func NewHandlerEnv(tb testing.TB, mod func(*credsvc.Options)) *HandlerEnv {
	tb.Helper()
	start := time.Unix(1_800_000_000, 0)
	e := &HandlerEnv{Clock: clock.NewFake(start), Log: NewLogSink(), PKI: NewPKI(tb, start)}
	var err error
	if e.Keyring, err = auth.NewKeyring([]auth.Secret{SecretA}); err != nil {
		tb.Fatal(err)
	}
	opts := HandlerOptions(e.Clock, e.Keyring, slog.New(e.Log))
	if mod != nil {
		mod(&opts)
	}
	if e.Handler, err = credsvc.NewHandler(opts); err != nil {
		tb.Fatal(err)
	}
	e.App = e.PKI.Client(TrustedApp).Leaf
	return e
}

// Service is a credential service on loopback with a fake clock.
type Service struct {
	PKI     *PKI
	Clock   *clock.Fake
	Keyring *auth.Keyring
	Handler *credsvc.Handler
	Server  *credsvc.Server
	URL     string // "https://127.0.0.1:port"
	Log     *LogSink
	tb      testing.TB
}

// StartService runs a service with the test options until the test ends;
// mod and smod may change its handler's and its server's options (mod may
// bring the clock, a *clock.Fake, and the keyring it shares with a relay).
func StartService(tb testing.TB, mod func(*credsvc.Options), smod func(*credsvc.ServerOptions)) *Service {
	tb.Helper()
	start := time.Now().Truncate(time.Second)
	s := &Service{tb: tb, PKI: NewPKI(tb, start), Clock: clock.NewFake(start), Log: NewLogSink()}
	var err error
	if s.Keyring, err = auth.NewKeyring([]auth.Secret{SecretA}); err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(s.Log)
	opts := HandlerOptions(s.Clock, s.Keyring, logger)
	if mod != nil {
		mod(&opts)
		// mod may bring the clock and keyring it shares with a relay.
		s.Clock, s.Keyring = opts.Clock.(*clock.Fake), opts.Keyring
	}
	if s.Handler, err = credsvc.NewHandler(opts); err != nil {
		tb.Fatal(err)
	}
	sopts := credsvc.ServerOptions{
		Addr:        netip.MustParseAddrPort("127.0.0.1:0"),
		Certificate: s.PKI.Server(),
		ClientCAs:   s.PKI.CA.Pool(),
		Handler:     s.Handler,
		Clock:       s.Clock,
		Logger:      logger,
	}
	if smod != nil {
		smod(&sopts)
	}
	if s.Server, err = credsvc.NewServer(sopts); err != nil {
		tb.Fatal(err)
	}
	s.URL = "https://" + s.Server.Addr().String()
	servertest.Serve(tb, s.Server)
	return s
}

// TLSConfig returns a client TLS configuration presenting cert (none when
// its Certificate is empty) and trusting the service's CA.
func (s *Service) TLSConfig(cert tls.Certificate) *tls.Config {
	c := &tls.Config{RootCAs: s.PKI.CA.Pool(), ServerName: "127.0.0.1"}
	if len(cert.Certificate) > 0 {
		c.Certificates = []tls.Certificate{cert}
	}
	return c
}

// HTTPClient returns an HTTPS client presenting cert; its idle
// connections are closed when the test ends.
func (s *Service) HTTPClient(cert tls.Certificate) *http.Client {
	tr := &http.Transport{TLSClientConfig: s.TLSConfig(cert)}
	s.tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: IOTimeout}
}

// PostJSON posts body to the service's credentials endpoint with client
// and returns the response with its body.
func (s *Service) PostJSON(client *http.Client, body string) (*http.Response, []byte, error) {
	resp, err := client.Post(s.URL+credsvc.CredentialsPath, "application/json", strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}
