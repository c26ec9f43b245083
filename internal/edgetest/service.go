package edgetest

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/mras"
	"github.com/avedge/avedge/internal/servertest"
)

const (
	// requestTimeout bounds a request to the credential service.
	requestTimeout = 10 * time.Second
)

// serviceRate lets tests ask for credentials as often as they like.
var serviceRate = credsvc.Rate{PerSecond: 1000, Burst: 1000}

// relays are the relay addresses the service hands out: UDP and TCP by IP
// address, TLS by the certificate's name, so that a client verifying the
// certificate against the URI's host accepts it.
func (e *Edge) relays() []credsvc.Relay {
	return []credsvc.Relay{
		{Host: e.UDP.Addr().String(), UDPPort: int(e.UDP.Port()), TCPPort: int(e.TCP.Port()), Location: credsvc.Internet},
		{Host: "localhost", TLSPort: int(e.TLS.Port()), Location: credsvc.Internet},
	}
}

// startService runs the credential service on 127.0.0.1 until the test
// ends, signing with keyring, handing out relays and answering the holder
// of a clientName certificate from ca; it returns the service's URL.
func startService(tb testing.TB, keyring *auth.Keyring, ca *testPKI, relays []credsvc.Relay) string {
	tb.Helper()
	h, err := credsvc.NewHandler(credsvc.Options{
		Keyring: keyring,
		Realm:   realm,
		MaxTTL:  maxCredentialLifetime,
		Relays:  relays,
		Trusted: []string{clientName},
		Rate:    serviceRate,
		Clock:   clock.Real{},
	})
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := credsvc.NewServer(credsvc.ServerOptions{
		Addr:        netip.AddrPortFrom(loopback, 0),
		Certificate: ca.serverCert(tb),
		ClientCAs:   ca.ca.Pool(),
		Handler:     h,
		MRAS:        mras.New(h),
		Clock:       clock.Real{},
	})
	if err != nil {
		tb.Fatal(err)
	}
	servertest.Serve(tb, srv)
	return "https://" + srv.Addr().String()
}

// newClient returns a client of the service at url presenting the trusted
// client certificate.
func newClient(tb testing.TB, url string, ca *testPKI) *credsvc.Client {
	tb.Helper()
	c, err := credsvc.NewClient(credsvc.ClientOptions{
		Service:     url,
		Certificate: ca.clientCert(tb),
		RootCAs:     ca.ca.Pool(),
		Timeout:     requestTimeout,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Credentials asks the credential service, over mutual TLS with a trusted
// client certificate, for a credential for identity (TTL
// Options.CredentialTTL) and returns
// it; its URIs name e.UDP, e.TCP and e.TLS
// ("turn:127.0.0.1:P?transport=udp", "turn:127.0.0.1:P?transport=tcp",
// "turns:localhost:P?transport=tcp": the TLS URI by the certificate's
// name).
func (e *Edge) Credentials(tb testing.TB, identity string) *credsvc.Credential {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	c, err := e.client.Credentials(ctx, credsvc.Request{Identity: identity, TTL: e.ttl.String()})
	if err != nil {
		tb.Fatalf("edgetest: credentials for %q: %v", identity, err)
	}
	return c
}

// MRAS asks the credential service for a credential for identity with
// MRAS ([MS-AVEDGEA]: SIP SERVICE over mutual TLS, as a Lync front end
// does) and returns the answer: base64 username and password, as Lync
// clients receive them, and the media relays of internet clients.
func (e *Edge) MRAS(tb testing.TB, identity string) *mras.Credentials {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	c, err := mras.Ask(ctx, e.client, mras.Request{Identity: identity})
	if err != nil {
		tb.Fatalf("edgetest: MRAS credentials for %q: %v", identity, err)
	}
	return c
}
