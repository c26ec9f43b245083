package credsvc

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
)

// Options configure a Handler.
type Options struct {
	// Keyring holds the secrets; credentials are signed with its newest
	// (required). Share it with the relay's authenticator, so that
	// Keyring.Set applies to both.
	Keyring *auth.Keyring
	// Realm is the relay's REALM, returned with each credential (required).
	Realm string
	// MaxTTL is the lifetime given when a caller asks for none and the
	// most it may ask for (required); it must not exceed the relay's
	// maximum credential lifetime.
	MaxTTL time.Duration
	// Relays are the relay addresses handed out, each with the Location
	// whose clients are given it. A location without relays is refused.
	Relays []Relay
	// Trusted are the DNS names of the clients allowed to ask (required):
	// see SetTrusted.
	Trusted []string
	// Rate limits the requests of each client name (required).
	Rate Rate
	// MaxClients bounds the rate limiter's memory; 0 means 1024.
	MaxClients int
	// Clock tells the time; nil means the wall clock.
	Clock clock.Clock
	// Logger receives refusals and issued credentials (never passwords);
	// nil discards them.
	Logger *slog.Logger
}

// Rate is a token bucket: PerSecond tokens are added each second, up to
// Burst, and each request takes one (an MRAS request one per credential
// it asks for).
type Rate struct {
	PerSecond float64
	Burst     int
}

// defaultMaxClients is the default bound of the rate limiter's table.
const defaultMaxClients = 1024

// check validates o and fills in its defaults.
func (o *Options) check() error {
	switch {
	case o.Keyring == nil:
		return fmt.Errorf("%w: no keyring", ErrBadOptions)
	case o.Realm == "":
		return fmt.Errorf("%w: no realm", ErrBadOptions)
	case o.MaxTTL < time.Second:
		return fmt.Errorf("%w: maximum TTL %v below 1s", ErrBadOptions, o.MaxTTL)
	case len(o.Trusted) == 0:
		return fmt.Errorf("%w: no trusted client names", ErrBadOptions)
	case !(o.Rate.PerSecond > 0) || o.Rate.Burst < 1:
		return fmt.Errorf("%w: rate %v/s, burst %d", ErrBadOptions, o.Rate.PerSecond, o.Rate.Burst)
	case o.MaxClients < 0:
		return fmt.Errorf("%w: negative MaxClients", ErrBadOptions)
	}
	for _, r := range o.Relays {
		if !r.Location.Valid() || r.Host == "" || (r.UDPPort == 0 && r.TCPPort == 0 && r.TLSPort == 0) {
			return fmt.Errorf("%w: relay %+v", ErrBadOptions, r)
		}
	}
	if o.MaxClients == 0 {
		o.MaxClients = defaultMaxClients
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
