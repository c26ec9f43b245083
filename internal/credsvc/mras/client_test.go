package mras

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/credsvctest"
)

// TestAsk: Ask speaks MRAS to the real service: the answer's base64
// credential is a REST credential for the identity with the duration
// asked for (cut to 480 minutes), the relays are those of the location;
// a location without relays is credsvc.ErrRefused with the
// reasonPhrase, an untrusted client (whose connection the service
// closes unanswered) and a service without MRAS get no credential.
func TestAsk(t *testing.T) {
	s := startService(t, nil, nil)
	client := func(s *service, name string) *credsvc.Client {
		c, err := credsvc.NewClient(credsvc.ClientOptions{Service: s.URL, Certificate: s.PKI.Client(name), RootCAs: s.PKI.CA.Pool()})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	cred, err := Ask(ctx, client(s, credsvctest.TrustedApp), Request{Identity: "sip:alice@example.com", Location: credsvc.Intranet, Duration: 90 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	wantREST(t, cred.Username, cred.Password, "sip:alice@example.com", s.Clock.Now(), 90*time.Minute)
	if cred.Minutes != 90 || cred.Realm != credsvctest.Realm || len(cred.Relays) == 0 {
		t.Fatalf("credential %+v", cred)
	}
	for _, r := range cred.Relays {
		if r.Location != credsvc.Intranet || r.Host == "" || (r.UDPPort == 0 && r.TCPPort == 0) {
			t.Errorf("relay %+v", r)
		}
	}
	if cred, err := Ask(ctx, client(s, credsvctest.TrustedApp), Request{Identity: "bob"}); err != nil || cred.Minutes != 480 {
		t.Errorf("default duration: %+v, %v", cred, err)
	}

	_, err = Ask(ctx, client(s, "intruder.example.com"), Request{Identity: "sip:alice@example.com"})
	if err == nil || !strings.Contains(err.Error(), "closed the connection without an answer") {
		t.Errorf("untrusted client: %v", err)
	}
	noRelays := startService(t, func(o *credsvc.Options) { o.Relays = o.Relays[:0] }, nil)
	_, err = Ask(ctx, client(noRelays, credsvctest.TrustedApp), Request{Identity: "sip:alice@example.com"})
	if !errors.Is(err, credsvc.ErrRefused) || !strings.Contains(err.Error(), `"Other Failure"`) {
		t.Errorf("no relays: %v", err)
	}
	off := startService(t, nil, func(o *credsvc.ServerOptions) { o.MRAS = nil })
	if _, err = Ask(ctx, client(off, credsvctest.TrustedApp), Request{Identity: "sip:alice@example.com"}); err == nil {
		t.Error("MRAS turned off: a credential")
	}
}
