package edge

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/server/stats"
)

// usersPoll is how often a running edge looks at its users file
// (watchUsers): an edit is in force within this long.
const usersPoll = 2 * time.Second

// loadUsers reads the users file at path, the configuration's key, of
// tenant for realm into a new table and returns the watch that keeps it
// up to date (its users are the table's); it returns nil for no file.
func loadUsers(key, tenant, path, realm string, log *slog.Logger) (*usersWatch, error) {
	if path == "" {
		return nil, nil
	}
	before, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	table, _, err := config.ReadUsersFile(path, realm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	w := &usersWatch{path: path, tenant: tenant, realm: realm, users: new(auth.Users), log: log, current: table}
	if after, err := os.Stat(path); err == nil && sameFile(before, after) {
		w.seen = before // else read again at the first poll
	}
	w.users.Set(table)
	log.Info("users file loaded", "users_file", path, "users", len(table))
	return w, nil
}

// usersWatch follows the users file: when it changes (by stat, as
// certWatch does) it is read whole; a file that parses replaces the table
// at once, and the sessions of users it removed or whose key it changed
// end (record reason "revoked"), so that an edit revokes a device within
// seconds; a file that does not parse keeps the current table and is
// logged once. A file changed while read is read again at the next poll.
type usersWatch struct {
	path, tenant, realm string
	users               *auth.Users
	log                 *slog.Logger
	// end ends the sessions of an identity of the tenant; it returns
	// how many.
	end func(ctx context.Context, identity string) (int, error)

	seen    os.FileInfo
	current map[string]auth.Credential
	// failed: the file as last seen does not load (logged once).
	failed bool
}

// poll looks at the file once.
func (w *usersWatch) poll(ctx context.Context) {
	before, err := os.Stat(w.path)
	if err != nil {
		if !w.failed {
			w.log.Warn("cannot read the users file; the current users stay", "users_file", w.path, "err", err)
			w.failed = true
		}
		w.seen = nil
		return
	}
	if sameFile(w.seen, before) {
		return
	}
	table, _, loadErr := config.ReadUsersFile(w.path, w.realm)
	after, err := os.Stat(w.path)
	if err != nil || !sameFile(before, after) {
		return // written to while read: again at the next poll
	}
	w.seen = before
	if loadErr != nil {
		w.log.Warn("the users file changed but does not load; the current users stay until it does", "err", loadErr)
		w.failed = true
		return
	}
	w.failed = false
	gone := changedUsers(w.current, table)
	w.users.Set(table)
	w.current = table
	ended := 0
	for _, name := range gone {
		n, err := w.end(ctx, name)
		if err != nil {
			w.log.Warn("the sessions of a user removed from the users file could not all be ended", "user", name, "err", err)
		}
		ended += n
	}
	w.log.Info("users file reloaded", "users_file", w.path, "users", len(table), "removed_or_changed", len(gone), "sessions_ended", ended)
}

// changedUsers returns, sorted, the users of old that new lacks or gives
// another key.
func changedUsers(old, new map[string]auth.Credential) []string {
	var out []string
	for name, c := range old {
		if n, ok := new[name]; !ok || n.Password != c.Password || string(n.HA1) != string(c.HA1) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// watchUsers polls the users files, the default tenant's and the other
// tenants', every interval until ctx is done (see usersWatch); without a
// users file it returns at once.
func (e *Edge) watchUsers(ctx context.Context, interval time.Duration) {
	var watches []*usersWatch
	if e.usersWatch != nil {
		watches = append(watches, e.usersWatch)
	}
	if e.tenants != nil {
		watches = append(watches, e.tenants.watches...)
	}
	if len(watches) == 0 {
		return
	}
	for _, w := range watches {
		w.end = func(ctx context.Context, identity string) (int, error) {
			return e.relay.EndTenantIdentity(ctx, w.tenant, identity, stats.EndRevoked)
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, w := range watches {
			w.poll(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
