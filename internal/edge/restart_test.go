package edge

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/config"
)

// changes are changes of one key of the development configuration (or of
// the keys under it), by key.
var changes = map[string]func(c *config.Config){
	// Needing a restart: one key (or section) of every top-level section.
	"realm":                          func(c *config.Config) { c.Realm = "other" },
	"software":                       func(c *config.Config) { c.Software = "other" },
	"advertise_host":                 func(c *config.Config) { c.AdvertiseHost = "turn.example.com" },
	"workers":                        func(c *config.Config) { c.Workers = 3 },
	"datapath.batch_delay":           func(c *config.Config) { c.DataPath.BatchDelay = time.Millisecond },
	"log.level":                      func(c *config.Config) { c.Log.Level = "debug" },
	"interfaces":                     func(c *config.Config) { c.Interfaces = &config.Interfaces{} },
	"listeners[0].address":           func(c *config.Config) { c.Listeners[0].Address = netip.MustParseAddrPort("127.0.0.1:3479") },
	"listeners":                      func(c *config.Config) { c.Listeners = c.Listeners[1:] },
	"relay.ports":                    func(c *config.Config) { c.Relay.PortMax = 50010 },
	"auth.nonce_lifetime":            func(c *config.Config) { c.Auth.NonceLifetime = time.Hour },
	"auth.nonce_key":                 func(c *config.Config) { c.Auth.NonceKey = []byte("another-nonce-key-0123") },
	"auth.static_users":              func(c *config.Config) { c.Auth.StaticUsers = []config.StaticUser{{Username: "u", Password: "p"}} },
	"lifetimes.channel":              func(c *config.Config) { c.Lifetimes.Channel = time.Minute },
	"quotas.channels_per_allocation": func(c *config.Config) { c.Quotas.ChannelsPerAllocation = 8 },
	"quotas.capacity":                func(c *config.Config) { c.Quotas.Capacity = 1 << 20 },
	"credential_service.listen":      func(c *config.Config) { c.CredentialService.Listen = netip.MustParseAddrPort("127.0.0.1:6000") },
	"credential_service.max_ttl":     func(c *config.Config) { c.CredentialService.MaxTTL = time.Hour },
	"credential_service":             func(c *config.Config) { c.CredentialService = nil },
	"admin":                          func(c *config.Config) { c.Admin = nil },
	"records.output":                 func(c *config.Config) { c.Records.Output = "-" },
	"drain.timeout":                  func(c *config.Config) { c.Drain.Timeout = time.Minute },
	"pool.alternate_servers": func(c *config.Config) {
		c.Pool.AlternateServers = []netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:3478")}
	},
	"ms_turn.enabled":             func(c *config.Config) { c.MSTurn.Enabled = false },
	"turn.strict_channel_numbers": func(c *config.Config) { c.Turn.StrictChannelNumbers = true },
	"limits.tcp_connection_rate":  func(c *config.Config) { c.Limits.TCPConnectionRate = 1 },
	"limits.tcp_connection_burst": func(c *config.Config) { c.Limits.TCPConnectionBurst = 1 },
	"tenants": func(c *config.Config) {
		c.Tenants = []config.Tenant{{Name: "b", Realm: "b.example.com", Secrets: []config.Secret{{ID: "b", Value: []byte("0123456789abcdef")}}}}
	},

	// Reloadable: every declared key.
	"listeners[].tls.cert_file": func(c *config.Config) { c.Listeners[2].TLS.CertFile = "/elsewhere.crt" },
	"listeners[].tls.key_file":  func(c *config.Config) { c.Listeners[2].TLS.KeyFile = "/elsewhere.key" },
	"auth.secrets": func(c *config.Config) {
		c.Auth.Secrets = append([]config.Secret{{ID: "n", Value: []byte("0123456789abcdef")}}, c.Auth.Secrets...)
	},
	"peers":                              func(c *config.Config) { c.Peers.Deny = []netip.Prefix{netip.MustParsePrefix("127.0.0.9/32")} },
	"quotas.allocations_per_user":        func(c *config.Config) { c.Quotas.AllocationsPerUser = 1 },
	"quotas.allocations_total":           func(c *config.Config) { c.Quotas.AllocationsTotal = 1 },
	"quotas.ports_per_user":              func(c *config.Config) { c.Quotas.PortsPerUser = 1 },
	"limits.unauthenticated_rate":        func(c *config.Config) { c.Limits.UnauthenticatedRate = 1 },
	"limits.unauthenticated_burst":       func(c *config.Config) { c.Limits.UnauthenticatedBurst = 1 },
	"credential_service.cert_file":       func(c *config.Config) { c.CredentialService.CertFile = "/elsewhere.crt" },
	"credential_service.key_file":        func(c *config.Config) { c.CredentialService.KeyFile = "/elsewhere.key" },
	"credential_service.client_ca_file":  func(c *config.Config) { c.CredentialService.ClientCAFile = "/elsewhere.crt" },
	"credential_service.trusted_clients": func(c *config.Config) { c.CredentialService.TrustedClients = []string{"x.example"} },
}

// deepCopy returns a copy of c that shares no list or section with it, so
// that a change of the copy leaves c alone.
func deepCopy(t *testing.T, c *config.Config) *config.Config {
	t.Helper()
	next := *c
	next.Listeners = slices.Clone(c.Listeners)
	for i, l := range next.Listeners {
		if l.TLS != nil {
			tls := *l.TLS
			next.Listeners[i].TLS = &tls
		}
	}
	next.Auth.Secrets = slices.Clone(c.Auth.Secrets)
	if c.CredentialService != nil {
		cs := *c.CredentialService
		next.CredentialService = &cs
	}
	return &next
}

// TestRestartKeys: a changed key that is not reloadable is reported, by its
// key, for a key of every top-level section; a change of a reloadable key
// is not.
func TestRestartKeys(t *testing.T) {
	running := development(t)
	for key, change := range changes {
		t.Run(key, func(t *testing.T) {
			next := deepCopy(t, running)
			change(next)
			var want []string
			if !slices.Contains(reloadable, key) {
				want = []string{key}
			}
			if got := restartKeys(running, next); !slices.Equal(got, want) {
				t.Errorf("restartKeys = %q, want %q", got, want)
			}
		})
	}
	if got := restartKeys(running, deepCopy(t, running)); got != nil {
		t.Errorf("restartKeys of the same configuration = %q, want none", got)
	}
}

// TestRestartKeysCoverage: the changes of TestRestartKeys cover every
// declared reloadable key and every top-level section, so that a section
// added to the configuration is reported until it is declared reloadable.
func TestRestartKeysCoverage(t *testing.T) {
	for _, key := range reloadable {
		if changes[key] == nil {
			t.Errorf("reloadable key %q: no change of it is tested", key)
		}
	}
	top := make(map[string]bool)
	for key := range changes {
		top[strings.FieldsFunc(key, func(r rune) bool { return r == '.' || r == '[' })[0]] = true
	}
	for f := range reflect.TypeFor[config.Config]().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Tag.Get("key") == "-" || !f.IsExported() {
			continue
		}
		if !top[name] {
			t.Errorf("section %q: no change of it is tested", name)
		}
	}
}

// TestRestartKeysIndexed: a changed key of a listed section is reported
// with its index; reloadable keys match any index.
func TestRestartKeysIndexed(t *testing.T) {
	running := development(t)
	next := deepCopy(t, running)
	next.Listeners[3].TLS.CertFile = "/elsewhere.crt"
	next.Listeners[4].Protocol = "tcp"
	if got, want := restartKeys(running, next), []string{"listeners[4].protocol"}; !slices.Equal(got, want) {
		t.Errorf("restartKeys = %q, want %q", got, want)
	}
}

// TestRestartKeysDerivedNonceKey: without auth.nonce_key, the nonce key is
// derived from the first secret, so replacing the first secret (an
// emergency revocation) needs a restart for the nonce key, and adding a
// secret behind it does not.
func TestRestartKeysDerivedNonceKey(t *testing.T) {
	a := config.Secret{ID: "a", Value: []byte("secret-a-0123456789abcdef")}
	b := config.Secret{ID: "b", Value: []byte("secret-b-0123456789abcdef")}
	load := func(secrets ...config.Secret) *config.Config {
		t.Helper()
		var y strings.Builder
		for _, s := range secrets {
			fmt.Fprintf(&y, "    - id: %s\n      secret: %q\n", s.ID, s.Value)
		}
		c, err := config.Parse("edge.yaml", t.TempDir(), []byte(`realm: example.com
listeners:
  - protocol: udp
    address: 127.0.0.1:3478
relay:
  address: 127.0.0.1
auth:
  secrets:
`+y.String()))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	running := load(a)
	tests := []struct {
		name    string
		secrets []config.Secret
		want    []string
	}{
		{"secret added behind the first", []config.Secret{a, b}, nil},
		{"new first secret", []config.Secret{b, a}, []string{"auth.nonce_key"}},
		{"first secret replaced", []config.Secret{b}, []string{"auth.nonce_key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := restartKeys(running, load(tt.secrets...)); !slices.Equal(got, tt.want) {
				t.Errorf("restartKeys = %q, want %q", got, tt.want)
			}
		})
	}
}
