package credsvc

import (
	"errors"
	"log/slog"
	"time"

	"github.com/avedge/avedge/internal/auth"
)

// issued is a signed credential and where to use it.
type issued struct {
	username, password string
	ttl                int64
	expires            time.Time
	relays             []Relay
	secretID           string
}

// errNoRelays means a location has no relay addresses.
var errNoRelays = errors.New("no relay addresses for this location")

// issue signs a credential (see sign) and logs it without the password.
func (h *Handler) issue(client, identity string, loc Location, ttl time.Duration) (issued, error) {
	c, err := h.sign(identity, loc, ttl)
	if err != nil {
		return issued{}, err
	}
	h.logIssued(client, identity, loc, c)
	return c, nil
}

// sign signs a credential for identity with the newest secret, valid for
// ttl (cut to MaxTTL) from now. Its errors are auth.ErrBadIdentity,
// errNoRelays, or a broken keyring.
func (h *Handler) sign(identity string, loc Location, ttl time.Duration) (issued, error) {
	ttl = min(ttl, h.opts.MaxTTL)
	var relays []Relay
	for _, r := range h.opts.Relays {
		if r.Location == loc {
			relays = append(relays, r)
		}
	}
	if len(relays) == 0 {
		return issued{}, errNoRelays
	}
	now := h.opts.Clock.Now()
	// The username holds whole seconds: round the expiry down, so that the
	// lifetime never exceeds what was granted.
	expires := time.Unix(now.Add(ttl).Unix(), 0).UTC()
	secret := h.opts.Keyring.Newest()
	username, password, err := auth.Issue(secret, identity, expires)
	if err != nil {
		return issued{}, err
	}
	// The lifetime left, in whole seconds rounded down, at least 1.
	left := max(1, int64(expires.Sub(now)/time.Second))
	return issued{username: username, password: password, ttl: left, expires: expires, relays: relays, secretID: secret.ID}, nil
}

// logIssued logs a credential issued to client, without its password.
func (h *Handler) logIssued(client, identity string, loc Location, c issued) {
	h.opts.Logger.Info("credential service: credential issued",
		slog.String("client", client), slog.String("identity", identity), slog.String("location", string(loc)),
		slog.Int64("ttl", c.ttl), slog.String("expires_at", c.expires.Format(time.RFC3339)), slog.String("secret_id", c.secretID))
}
