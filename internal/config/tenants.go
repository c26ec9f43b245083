package config

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
)

// Tenant is one customer or application that an edge hosts beside the
// default tenant, which the top-level realm, auth and quotas make up: its
// own realm, credentials and quotas, and, optionally, listeners of its own.
type Tenant struct {
	// Name names the tenant in metrics (the "tenant" label) and records.
	Name string `json:"name"`
	// Realm is the tenant's REALM, unlike every other tenant's.
	Realm string `json:"realm"`
	// Secrets are the tenant's shared secrets of ephemeral credentials,
	// newest first; their IDs are unique across all tenants.
	Secrets []Secret `json:"secrets"`
	// UsersFile names the tenant's users file, whose lines name its realm
	// (see Auth.UsersFile); empty: none.
	UsersFile string `json:"users_file"`
	// Webhook, if set, is asked for the credentials of the tenant's
	// usernames that no other source of the tenant knows.
	Webhook *Webhook `json:"webhook"`
	// Quotas bound the tenant's allocations; the keys left out take the
	// values of the top-level quotas (see TenantQuotas).
	Quotas TenantQuotas `json:"quotas"`
	// Peers are the tenant's additions to the edge's peer policy.
	Peers TenantPeers `json:"peers"`
	// Listeners are the indexes in Config.Listeners of the listeners
	// bound to the tenant: there the 401 carries the tenant's realm and
	// only the tenant's credentials are accepted, and the tenant is served
	// nowhere else. Empty: the tenant is served on the listeners bound to
	// no tenant, to clients that name its realm.
	Listeners []int `json:"listeners"`
}

// TenantPeers are a tenant's additions to the edge's peer policy
// (Config.Peers), which go on applying to the tenant, reloads included.
type TenantPeers struct {
	// Allow are ranges the tenant's allocations relay to although the
	// edge's policy refuses them (a customer's own network); the edge's
	// own addresses and refused peer ports stay refused.
	Allow []netip.Prefix `json:"allow"`
	// Deny are ranges the tenant's allocations do not relay to, whatever
	// the edge's policy and Allow say.
	Deny []netip.Prefix `json:"deny"`
}

// TenantQuotas are the quotas of one tenant.
type TenantQuotas struct {
	// AllocationsPerUser and PortsPerUser bound one user of the tenant, as
	// the top-level quotas do; AllocationsTotal bounds all the tenant's
	// allocations together (the edge's quotas.allocations_total still
	// bounds every tenant's together).
	AllocationsPerUser int `json:"allocations_per_user"`
	AllocationsTotal   int `json:"allocations_total"`
	PortsPerUser       int `json:"ports_per_user"`
	// BandwidthPerAllocation and BandwidthPerUser cap the tenant's
	// allocations and users, in bytes per second; 0: no cap.
	BandwidthPerAllocation uint64 `json:"bandwidth_per_allocation,omitempty"`
	BandwidthPerUser       uint64 `json:"bandwidth_per_user,omitempty"`
}

// maxTenants bounds the tenants section: with the default tenant, the 64
// tenants of auth.MaxTenants.
const maxTenants = 63

// tenantName is what a tenant's name may be: a metric label value and a
// record field that needs no quoting.
var tenantName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// tenantParse holds what finishTenants needs of one tenant's entry.
type tenantParse struct {
	e         entry
	listeners []entry // the items of its listeners list
	seen      map[string]entry
}

// tenants decodes the tenants list; finishTenants checks it against the
// other sections.
func (p *parser) tenants(e entry, dst *[]Tenant) error {
	items, err := p.list(e)
	if err != nil {
		return err
	}
	if len(items) > maxTenants {
		return p.fail(e, "%d tenants: at most %d (with the default tenant, %d)", len(items), maxTenants, maxTenants+1)
	}
	for _, item := range items {
		t, err := p.tenant(item)
		if err != nil {
			return err
		}
		*dst = append(*dst, t)
	}
	return nil
}

// tenant decodes one tenant; its listeners are resolved by finishTenants.
func (p *parser) tenant(e entry) (Tenant, error) {
	var t Tenant
	tp := tenantParse{e: e}
	seen, err := p.mapping(e, []field{
		{"name", func(e entry) error {
			s, err := p.str(e)
			switch {
			case err != nil:
				return err
			case !tenantName.MatchString(s):
				return p.fail(e, "%q: 1 to 32 lower-case letters, digits, '-' and '_', starting with a letter or digit", s)
			case s == "default":
				return p.fail(e, "\"default\" is the tenant of the top-level realm, auth and quotas")
			}
			t.Name = s
			return nil
		}},
		{"realm", func(e entry) error { return p.realm(e, &t.Realm) }},
		{"secrets", func(e entry) error { return p.secrets(e, &t.Secrets) }},
		{"users_file", func(e entry) error { return p.usersFile(e, &t.UsersFile) }},
		{"webhook", func(e entry) error { return p.webhook(e, &t.Webhook) }},
		{"quotas", func(e entry) error { return p.tenantQuotas(e, &t.Quotas) }},
		{"peers", func(e entry) error {
			_, err := p.mapping(e, []field{
				{"allow", func(e entry) error { return p.prefixes(e, &t.Peers.Allow) }},
				{"deny", func(e entry) error { return p.prefixes(e, &t.Peers.Deny) }},
			})
			return err
		}},
		{"listeners", func(e entry) error {
			items, err := p.list(e)
			tp.listeners = items
			return err
		}},
	})
	if err != nil {
		return Tenant{}, err
	}
	if err := p.require(e, seen, "name", "realm"); err != nil {
		return Tenant{}, err
	}
	if len(t.Secrets) == 0 && t.UsersFile == "" && t.Webhook == nil {
		return Tenant{}, p.fail(e, "tenant %q: at least one of secrets, users_file or webhook is required", t.Name)
	}
	tp.seen = seen
	p.tenantEntries = append(p.tenantEntries, tp)
	return t, nil
}

// tenantQuotas decodes a tenant's quotas.
func (p *parser) tenantQuotas(e entry, dst *TenantQuotas) error {
	limit := func(dst *int) func(entry) error {
		return func(e entry) error {
			n, err := p.integer(e, 1, math.MaxInt)
			*dst = n
			return err
		}
	}
	_, err := p.mapping(e, []field{
		{"allocations_per_user", limit(&dst.AllocationsPerUser)},
		{"allocations_total", limit(&dst.AllocationsTotal)},
		{"ports_per_user", limit(&dst.PortsPerUser)},
		{"bandwidth_per_allocation", p.bandwidthField(&dst.BandwidthPerAllocation)},
		{"bandwidth_per_user", p.bandwidthField(&dst.BandwidthPerUser)},
	})
	return err
}

// finishTenants checks the tenants against each other and the default
// tenant (unique names, realms and secret IDs), reads their users files,
// resolves their listeners and fills in their quotas from the top-level
// ones. It runs after finishQuotas.
func (p *parser) finishTenants() error {
	c := p.cfg
	names := map[string]int{}
	realms := map[string]string{c.Realm: "the top-level realm"}
	secretIDs := map[string]string{}
	for i, s := range c.Auth.Secrets {
		secretIDs[s.ID] = fmt.Sprintf("auth.secrets[%d]", i)
	}
	bound := map[int]string{}
	for i := range c.Tenants {
		t, tp := &c.Tenants[i], p.tenantEntries[i]
		key := func(k string) string { return child(tp.e.path, k) }
		if j, dup := names[t.Name]; dup {
			return p.failAt(p.where(key("name")), key("name"), "%q: the name of tenants[%d] too", t.Name, j)
		}
		names[t.Name] = i
		if other, dup := realms[t.Realm]; dup {
			return p.failAt(p.where(key("realm")), key("realm"), "%q: already %s", t.Realm, other)
		}
		realms[t.Realm] = fmt.Sprintf("the realm of tenants[%d]", i)
		for j, s := range t.Secrets {
			k := fmt.Sprintf("%s[%d].id", key("secrets"), j)
			if other, dup := secretIDs[s.ID]; dup {
				return p.failAt(p.where(k), k, "%q: already the id of %s (secret ids are unique across tenants)", s.ID, other)
			}
			secretIDs[s.ID] = fmt.Sprintf("%s[%d]", key("secrets"), j)
		}
		if err := p.checkUsersFileOf(key("users_file"), t.UsersFile, t.Realm); err != nil {
			return err
		}
		for _, item := range tp.listeners {
			n, err := p.tenantListener(item)
			if err != nil {
				return err
			}
			for _, l := range n {
				if other, dup := bound[l]; dup {
					return p.fail(item, "listeners[%d] is already bound to %s", l, other)
				}
				bound[l] = fmt.Sprintf("tenant %q", t.Name)
				t.Listeners = append(t.Listeners, l)
			}
		}
		slices.Sort(t.Listeners)
		p.finishTenantQuotas(tp, &t.Quotas)
	}
	return nil
}

// tenantListener resolves one item of a tenant's listeners: the index of
// a listener, or an address ("127.0.0.1:3478"), which binds every listener
// of that address (UDP and TCP alike).
func (p *parser) tenantListener(e entry) ([]int, error) {
	v, err := p.scalar(e, "a listener's index or address")
	if err != nil {
		return nil, err
	}
	ls := p.cfg.Listeners
	if v.ShortTag() == "!!int" {
		n, err := p.integer(e, 0, len(ls)-1)
		return []int{n}, err
	}
	s, err := p.str(e)
	if err != nil {
		return nil, err
	}
	a, err := netip.ParseAddrPort(s)
	if err != nil {
		return nil, p.fail(e, "%q: neither the index of a listener nor an address such as \"192.0.2.1:3478\"", s)
	}
	var out []int
	for i, l := range ls {
		if l.Address == a {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		return nil, p.fail(e, "%s: the address of no listener", a)
	}
	return out, nil
}

// finishTenantQuotas gives the quotas a tenant leaves out the top-level
// values: allocations_total the edge's, ports_per_user twice
// allocations_per_user when that is set, the edge's otherwise.
func (p *parser) finishTenantQuotas(tp tenantParse, q *TenantQuotas) {
	top := p.cfg.Quotas
	if q.AllocationsTotal == 0 {
		q.AllocationsTotal = top.AllocationsTotal
	}
	switch {
	case q.PortsPerUser != 0:
	case q.AllocationsPerUser == 0:
		q.PortsPerUser = top.PortsPerUser
	case q.AllocationsPerUser > math.MaxInt/2:
		q.PortsPerUser = math.MaxInt
	default:
		q.PortsPerUser = 2 * q.AllocationsPerUser
	}
	if q.AllocationsPerUser == 0 {
		q.AllocationsPerUser = top.AllocationsPerUser
	}
	if q.BandwidthPerAllocation == 0 {
		q.BandwidthPerAllocation = top.BandwidthPerAllocation
	}
	if q.BandwidthPerUser == 0 {
		q.BandwidthPerUser = top.BandwidthPerUser
	}
	if q.AllocationsTotal > top.AllocationsTotal {
		p.warn(child(tp.e.path, "quotas.allocations_total"), "%d exceeds quotas.allocations_total (%d), which bounds every tenant's allocations together",
			q.AllocationsTotal, top.AllocationsTotal)
	}
}
