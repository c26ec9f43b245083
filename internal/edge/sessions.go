package edge

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/revocation"
	"github.com/avedge/avedge/internal/server"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/sessions"
)

// revocationsFileName is the revocations file in the state directory,
// unless auth.revocations_file names another.
const revocationsFileName = "revocations.json"

// watchEndTimeout bounds how long ending the sessions of identities that
// another node revoked waits for the relay's workers.
const watchEndTimeout = 10 * time.Second

// openRevocations loads the revocations file of cfg: auth.revocations_file,
// or revocations.json in the state directory.
func openRevocations(cfg *config.Config, log *slog.Logger, clk clock.Clock) (*revocation.Store, error) {
	path := cfg.Auth.RevocationsFile
	if path == "" {
		dir, err := config.DefaultStateDir()
		if err != nil {
			return nil, fmt.Errorf("auth.revocations_file: not set, and %w", err)
		}
		path = filepath.Join(dir, revocationsFileName)
	}
	store, err := revocation.New(revocation.Options{
		Path: path, MaxCredentialLifetime: cfg.Auth.MaxCredentialLifetime, Clock: clk, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("auth.revocations_file: %w", err)
	}
	if err := store.Load(); err != nil {
		return nil, fmt.Errorf("auth.revocations_file: %w", err)
	}
	if n := store.Current().Len(); n > 0 {
		log.Info("revocations loaded", "file", path, "identities", n)
	}
	return store, nil
}

// sessionControl is the sessions.Controller of the admin endpoints: the
// relay's sessions and the revocation store.
type sessionControl struct {
	relay *server.Server
	store *revocation.Store
	clk   clock.Clock
	log   *slog.Logger
}

// List implements sessions.Controller.
func (c *sessionControl) List(ctx context.Context, f sessions.Filter) ([]sessions.Session, error) {
	return c.relay.Sessions(ctx, f)
}

// End implements sessions.Controller.
func (c *sessionControl) End(ctx context.Context, id string) error {
	return c.relay.EndSession(ctx, id)
}

// Revoke implements sessions.Controller: the revocation is stored first
// (so that it holds for new Allocates at once and survives a restart),
// then the identity's live sessions end.
func (c *sessionControl) Revoke(ctx context.Context, identity string, until time.Time) (sessions.Revocation, int, error) {
	rev, err := c.store.Revoke(identity, until)
	if err != nil {
		return sessions.Revocation{}, 0, err
	}
	n, err := c.relay.EndIdentity(ctx, identity, stats.EndRevoked)
	if err != nil {
		return rev, n, err
	}
	c.log.Info("identity revoked", "identity", identity, "until", until, "sessions_ended", n)
	return rev, n, nil
}

// Revocations implements sessions.Controller: those that still refuse a
// credential.
func (c *sessionControl) Revocations() []sessions.Revocation {
	return c.store.Current().InForce(c.clk.Now())
}

// Lift implements sessions.Controller.
func (c *sessionControl) Lift(identity string) error {
	if err := c.store.Lift(identity); err != nil {
		return err
	}
	c.log.Info("revocation lifted", "identity", identity)
	return nil
}

// watchRevocations follows the revocations file until ctx ends, every
// interval, and ends the live sessions of the identities that another
// node or a configuration push revoked.
func (c *sessionControl) watchRevocations(ctx context.Context, every time.Duration) {
	c.store.Watch(ctx, every, func(added []sessions.Revocation) {
		for _, r := range added {
			c.endRevoked(ctx, r.Identity, every)
		}
	})
}

// endRevoked ends the live sessions of identity, revoked elsewhere, and
// tries again every interval until it could or ctx ends: the file reports
// a revocation once, and the relay's workers may be busy or stopping.
func (c *sessionControl) endRevoked(ctx context.Context, identity string, every time.Duration) {
	for {
		ectx, cancel := context.WithTimeout(ctx, watchEndTimeout)
		n, err := c.relay.EndIdentity(ectx, identity, stats.EndRevoked)
		cancel()
		if err == nil {
			c.log.Info("identity revoked in the revocations file", "identity", identity, "sessions_ended", n)
			return
		}
		c.log.Warn("ending the sessions of a revoked identity; trying again", "identity", identity, "err", err)
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
