package server

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/policy"
)

var (
	// ErrUnknownTenant is returned by New for a Tenant or a
	// StreamListener that names a tenant Options.Auth does not hold.
	ErrUnknownTenant = errors.New("server: unknown tenant")
	// ErrTenantListener is returned by New for a Tenant.UDPListeners
	// address that is no UDP listener's, or another tenant's too.
	ErrTenantListener = errors.New("server: bad tenant listener")
)

// Tenant is what the server applies to one tenant of Options.Auth (see
// auth.TenantOptions) beside the default one, whose quotas are the
// Options' own.
type Tenant struct {
	// Name is the tenant's name in Options.Auth.
	Name string
	// UDPListeners are the addresses, as given in Listeners,
	// FrontListeners or STUNListeners, of the UDP listeners bound to the
	// tenant: their 401s carry its realm, and they accept its
	// credentials only (auth.Authenticator.Bound). A StreamListener is
	// bound with its Tenant.
	UDPListeners []netip.AddrPort
	// Quotas are the tenant's: AllocationsPerUser and PortsPerUser bound
	// each of its users, AllocationsTotal all its allocations together;
	// the Options' AllocationsTotal still bounds every tenant's together.
	// 0 sets no limit.
	Quotas Quotas
	// BandwidthPerAllocation and BandwidthPerUser cap the tenant's
	// allocations and users as the Options' own cap the default tenant's;
	// the zero values are off.
	BandwidthPerAllocation, BandwidthPerUser policy.Bandwidth
	// PeerAllow and PeerDeny are the tenant's additions to the peer
	// policy (see tenantTable.peerAllowed).
	PeerAllow, PeerDeny []netip.Prefix
}

// tenantTable is the per-tenant state of a server, indexed as
// auth.Authenticator.Tenants (0: the default tenant): what their quotas
// count, and their names for metrics and records.
type tenantTable struct {
	names []string
	// allocations counts each tenant's live allocations, for its
	// AllocationsTotal and the allocation gauge.
	allocations []atomic.Int64
	// limits are the quotas of the tenants but the default one, whose
	// quotas are shared.quotaLimits; limits[0] is unused.
	limits []quotaLimits
	// allow and deny are the tenants' additions to the peer policy (nil:
	// none; the default tenant has none).
	allow, deny []*policy.Ranges
}

// peerAllowed reports whether an allocation of owner (see quotaOwner) may
// reach ip under base, the edge's peer policy in force: a range its tenant
// denies is refused, a range its tenant allows is relayed to, and base
// decides the rest. The edge's own addresses and peer ports are the peer
// rule's, checked beside this.
func (t *tenantTable) peerAllowed(base *policy.PeerPolicy, owner string, ip netip.Addr) bool {
	if i := ownerTenant(owner); i > 0 && i < len(t.allow) {
		switch {
		case t.deny[i].Contains(ip):
			return false
		case t.allow[i].Contains(ip):
			return true
		}
	}
	return base.Allowed(ip)
}

// newTenantTable returns the table of authn's tenants with the quotas
// of ts; a tenant of authn that ts lacks has the default tenant's per-user
// quotas (def) and no total of its own. A UDP listener may be bound to
// one tenant only.
func newTenantTable(authn *auth.Authenticator, ts []Tenant, def quotaLimits) (*tenantTable, error) {
	names := authn.Tenants()
	t := &tenantTable{names: names, allocations: make([]atomic.Int64, len(names)), limits: make([]quotaLimits, len(names)),
		allow: make([]*policy.Ranges, len(names)), deny: make([]*policy.Ranges, len(names))}
	for i := range t.limits {
		t.limits[i] = quotaLimits{perUser: def.perUser, ports: def.ports}
	}
	bound := map[netip.AddrPort]string{}
	for _, tn := range ts {
		for _, a := range tn.UDPListeners {
			if other, dup := bound[a]; dup {
				return nil, fmt.Errorf("%w: %v is bound to %q and %q", ErrTenantListener, a, other, tn.Name)
			}
			bound[a] = tn.Name
		}
		i := slices.Index(names, tn.Name)
		if i <= 0 {
			return nil, fmt.Errorf("%w: %q (not a tenant of Auth beside the default one)", ErrUnknownTenant, tn.Name)
		}
		q := tn.Quotas
		t.limits[i] = quotaLimits{perUser: q.AllocationsPerUser, total: q.AllocationsTotal, ports: q.PortsPerUser}
		if len(tn.PeerAllow) > 0 {
			t.allow[i] = policy.NewRanges(tn.PeerAllow)
		}
		if len(tn.PeerDeny) > 0 {
			t.deny[i] = policy.NewRanges(tn.PeerDeny)
		}
	}
	return t, nil
}

// tenantCaps returns the bandwidth caps of each of the tenants called
// names: the Options' own for the default tenant and a tenant opts lacks,
// the Tenant's otherwise.
func tenantCaps(opts *Options, names []string) []bwCaps {
	caps := make([]bwCaps, len(names))
	for i := range caps {
		caps[i] = bwCaps{perAlloc: opts.BandwidthPerAllocation, perUser: opts.BandwidthPerUser}
	}
	for _, t := range opts.Tenants {
		if i := slices.Index(names, t.Name); i > 0 {
			caps[i] = bwCaps{perAlloc: t.BandwidthPerAllocation, perUser: t.BandwidthPerUser}
		}
	}
	return caps
}

// quotaOwner names whom an allocation counts against: the tenant's index
// (one byte, auth.MaxTenants being below 256) followed by the identity of
// an ephemeral credential (each issued credential has a new username, so
// counting usernames would let one identity exceed its quota), else the
// username. Users of different tenants are different owners, whatever
// their names.
func quotaOwner(res *auth.Result) string {
	id := res.Identity
	if id == "" {
		id = res.Username
	}
	return string([]byte{byte(res.TenantIndex)}) + id
}

// ownerTenant returns the index of the tenant of owner (see quotaOwner).
func ownerTenant(owner string) int {
	if owner == "" {
		return 0
	}
	return int(owner[0])
}

// ownerIdentity returns the identity of owner (see quotaOwner).
func ownerIdentity(owner string) string {
	if owner == "" {
		return ""
	}
	return owner[1:]
}

// checkTenantListeners makes sure that every address of a
// Tenant.UDPListeners is that of a UDP listener of opts.
func checkTenantListeners(opts *Options) error {
	udp := slices.Concat(opts.Listeners, opts.STUNListeners)
	for _, f := range opts.FrontListeners {
		udp = append(udp, f.Addr)
	}
	for _, t := range opts.Tenants {
		for _, a := range t.UDPListeners {
			if !slices.Contains(udp, a) {
				return fmt.Errorf("%w: %v of tenant %q is no UDP listener's address", ErrTenantListener, a, t.Name)
			}
		}
	}
	return nil
}

// listenerAuth returns the Authenticator of the UDP listener configured
// at addr: the Bound one of the tenant of opts that lists addr, else
// opts.Auth.
func listenerAuth(opts *Options, addr netip.AddrPort) *auth.Authenticator {
	for _, t := range opts.Tenants {
		if slices.Contains(t.UDPListeners, addr) {
			if b, ok := opts.Auth.Bound(t.Name); ok {
				return b
			}
		}
	}
	return opts.Auth
}

// streamAuth returns the Authenticator of a StreamListener bound to
// tenant (see listenerAuth); "" is opts.Auth.
func streamAuth(opts *Options, tenant string) (*auth.Authenticator, error) {
	if tenant == "" {
		return opts.Auth, nil
	}
	b, ok := opts.Auth.Bound(tenant)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownTenant, tenant)
	}
	return b, nil
}
