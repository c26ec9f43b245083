package edge

import (
	"fmt"
	"log/slog"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/authhook"
	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server"
)

// tenantSources are the credential sources of the tenants of a
// configuration, as the authenticator takes them, and what of them the
// edge runs and closes: the watches of their users files (followed as
// the default tenant's is) and their webhook clients.
type tenantSources struct {
	opts    []auth.TenantOptions
	watches []*usersWatch
	hooks   []*authhook.Client
}

// newTenantSources builds the keyrings, users tables and webhook clients
// of cfg.Tenants. On error, the webhook clients made are closed.
func newTenantSources(cfg *config.Config, log *slog.Logger, clk clock.Clock) (_ *tenantSources, err error) {
	ts := &tenantSources{}
	defer func() {
		if err != nil {
			ts.close()
		}
	}()
	for i, t := range cfg.Tenants {
		key := fmt.Sprintf("tenants[%d]", i)
		o := auth.TenantOptions{Name: t.Name, Realm: t.Realm, Bound: len(t.Listeners) > 0}
		if len(t.Secrets) > 0 {
			if o.Keyring, err = newKeyring(config.Auth{Secrets: t.Secrets}); err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
		}
		w, err := loadUsers(key+".users_file", t.Name, t.UsersFile, t.Realm, log)
		if err != nil {
			return nil, err
		}
		if w != nil {
			o.Users = w.users
			ts.watches = append(ts.watches, w)
		}
		h, err := newWebhook(key+".webhook", t.Webhook, log, clk)
		if err != nil {
			return nil, err
		}
		if h != nil {
			o.Hook = h
			ts.hooks = append(ts.hooks, h)
		}
		ts.opts = append(ts.opts, o)
	}
	return ts, nil
}

// close closes the webhook clients.
func (ts *tenantSources) close() {
	for _, h := range ts.hooks {
		h.Close()
	}
}

// serverTenants returns the relay's view of cfg.Tenants: their quotas,
// bandwidth caps (a burst of one second's worth) and UDP listeners;
// streams, the stream listeners built from cfg.Listeners in order, get
// the tenant of theirs (indexes maps a listener's index in cfg.Listeners
// to its place in streams, or -1).
func serverTenants(cfg *config.Config, streams []server.StreamListener, indexes []int) ([]server.Tenant, error) {
	out := make([]server.Tenant, len(cfg.Tenants))
	for i, t := range cfg.Tenants {
		q := t.Quotas
		out[i] = server.Tenant{Name: t.Name, Quotas: server.Quotas{
			AllocationsPerUser: q.AllocationsPerUser, AllocationsTotal: q.AllocationsTotal, PortsPerUser: q.PortsPerUser,
		}, PeerAllow: t.Peers.Allow, PeerDeny: t.Peers.Deny}
		var err error
		if out[i].BandwidthPerAllocation, err = policy.NewBandwidth(q.BandwidthPerAllocation, 0); err != nil {
			return nil, fmt.Errorf("tenants[%d].quotas.bandwidth_per_allocation: %w", i, err)
		}
		if out[i].BandwidthPerUser, err = policy.NewBandwidth(q.BandwidthPerUser, 0); err != nil {
			return nil, fmt.Errorf("tenants[%d].quotas.bandwidth_per_user: %w", i, err)
		}
		for _, l := range t.Listeners {
			if j := indexes[l]; j >= 0 {
				streams[j].Tenant = t.Name
				continue
			}
			out[i].UDPListeners = append(out[i].UDPListeners, cfg.Listeners[l].Address)
		}
	}
	return out, nil
}
