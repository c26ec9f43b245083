package credsvc

import (
	"errors"
	"log/slog"
	"time"

	"github.com/avedge/avedge/internal/auth"
)

// Issued is a signed credential and where to use it.
type Issued struct {
	// Username and Password are the TURN REST credential.
	Username, Password string
	// TTL is the lifetime left, in whole seconds, at least 1.
	TTL int64
	// Expires is when the credential expires.
	Expires time.Time
	// Relays are the relay addresses of the credential's location.
	Relays []Relay
	// SecretID names the secret that signed it.
	SecretID string
}

// issue signs a credential (see sign) and logs it without the password.
func (h *Handler) issue(client, identity string, loc Location, ttl time.Duration) (Issued, error) {
	c, err := h.Sign(identity, loc, ttl)
	if err != nil {
		return Issued{}, err
	}
	h.LogIssued(client, identity, loc, c)
	return c, nil
}

// sign signs a credential for identity with the newest secret, valid for
// ttl (cut to MaxTTL) from now. Its errors are auth.ErrBadIdentity,
// ErrNoRelays, or a broken keyring.
func (h *Handler) Sign(identity string, loc Location, ttl time.Duration) (Issued, error) {
	ttl = min(ttl, h.opts.MaxTTL)
	var relays []Relay
	for _, r := range h.opts.Relays {
		if r.Location == loc {
			relays = append(relays, r)
		}
	}
	if len(relays) == 0 {
		return Issued{}, ErrNoRelays
	}
	now := h.opts.Clock.Now()
	// The username holds whole seconds: round the expiry down, so that the
	// lifetime never exceeds what was granted.
	expires := time.Unix(now.Add(ttl).Unix(), 0).UTC()
	secret := h.opts.Keyring.Newest()
	username, password, err := auth.Issue(secret, identity, expires)
	if err != nil {
		return Issued{}, err
	}
	// The lifetime left, in whole seconds rounded down, at least 1.
	left := max(1, int64(expires.Sub(now)/time.Second))
	return Issued{Username: username, Password: password, TTL: left, Expires: expires, Relays: relays, SecretID: secret.ID}, nil
}

// LogIssued logs a credential issued to client, without its password.
func (h *Handler) LogIssued(client, identity string, loc Location, c Issued) {
	h.opts.Logger.Info("credential service: credential issued",
		slog.String("client", client), slog.String("identity", identity), slog.String("location", string(loc)),
		slog.Int64("ttl", c.TTL), slog.String("expires_at", c.Expires.Format(time.RFC3339)), slog.String("secret_id", c.SecretID))
}

// SignRefusal returns the reason a request is refused for when Sign fails
// with err for location loc, as every endpoint words it, and whether the
// failure is the service's (a broken keyring) rather than the request's.
func SignRefusal(err error, loc Location) (reason string, internal bool) {
	switch {
	case errors.Is(err, auth.ErrBadIdentity):
		return "identity: must be 1 to 128 bytes of printable UTF-8 text", false
	case errors.Is(err, ErrNoRelays):
		return "location: " + string(loc) + " has no relay addresses configured", false
	default:
		return "cannot sign a credential: " + err.Error(), true
	}
}
