package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestChanged(t *testing.T) {
	a := mustParse(t, "testdata", strings.Replace(base, "    address: 0.0.0.0:3478\n", `    address: 0.0.0.0:3478
  - protocol: tls
    address: 0.0.0.0:5349
    tls: {cert_file: pki/service.crt, key_file: pki/service.key}
`, 1)+"peers:\n  allow: []\n")
	tests := []struct {
		name string
		mod  func(c *Config)
		want []string
	}{
		{"nothing", func(*Config) {}, nil},
		{"empty list is an absent one", func(c *Config) { c.Peers.Allow = nil }, nil},
		{"value", func(c *Config) { c.Realm = "other" }, []string{"realm"}},
		{"one key, two fields", func(c *Config) { c.Relay.PortMin, c.Relay.PortMax = 40000, 40100 }, []string{"relay.ports"}},
		{"list of values", func(c *Config) { c.Peers.Deny = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} }, []string{"peers.deny"}},
		{"section added", func(c *Config) { c.Admin = &Admin{} }, []string{"admin"}},
		{"key of a listed section", func(c *Config) {
			c.Listeners = slices.Clone(c.Listeners)
			tls := *c.Listeners[1].TLS
			tls.CertFile = "b.crt"
			c.Listeners[1].TLS = &tls
		}, []string{"listeners[1].tls.cert_file"}},
		{"list of sections of another length", func(c *Config) { c.Listeners = c.Listeners[:1] }, []string{"listeners"}},
		{"secret value, in field order", func(c *Config) {
			c.MSTurn.Enabled = true
			c.Auth.Secrets = []Secret{{ID: "a", Value: []byte("another-secret-0123456789")}}
			c.Auth.NonceLifetime = time.Hour
		}, []string{"auth.secrets[0].secret", "auth.nonce_lifetime", "ms_turn.enabled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := *a
			tt.mod(&b)
			if got := Changed(a, &b); !slices.Equal(got, tt.want) {
				t.Errorf("Changed = %q, want %q", got, tt.want)
			}
		})
	}
}

// moreKeys sets the keys that the valid test configurations leave out:
// interface names (they name interfaces of the host) and ports of intranet
// relays.
const moreKeys = `interfaces: {internal: {name: eth1}, external: {name: eth0}}
credential_service: {relays: {intranet: {host: relay.example, tcp_port: 443, tls_port: 5349}}}`

// TestChangedKeysAreYAMLKeys: every key Changed can report is a key that
// the valid test configurations set, so the names it logs are the ones an
// operator writes. A list of sections may also be one mapping
// (credential_service.relays.internet), so "[]" is left out of both.
func TestChangedKeysAreYAMLKeys(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "valid", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test configurations: %v", err)
	}
	sources := [][]byte{[]byte(moreKeys)}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, data)
	}
	written := make(map[string]bool)
	for _, data := range sources {
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		yamlKeys(doc.Content[0], "", written)
	}
	for _, key := range sectionKeys(reflect.TypeFor[Config](), "") {
		if key == "interfaces.internal.advertised" {
			continue // the type of both sides; only the external one has the key
		}
		if !written[strings.ReplaceAll(key, "[]", "")] {
			t.Errorf("key %q: no test configuration sets it; is the field's name its YAML key (see keyName)?", key)
		}
	}
}

// yamlKeys adds to keys the paths of the keys in n, under path; the keys
// of a list's items are under the list's path.
func yamlKeys(n *yaml.Node, path string, keys map[string]bool) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := joinKey(path, n.Content[i].Value)
			keys[key] = true
			yamlKeys(n.Content[i+1], key, keys)
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			yamlKeys(item, path, keys)
		}
	}
}

// sectionKeys returns the keys Changed compares in the section type t,
// under path, with "[]" for lists of sections.
func sectionKeys(t reflect.Type, path string) []string {
	var keys []string
	for i := range t.NumField() {
		name, ok := keyName(t.Field(i))
		if !ok {
			continue
		}
		key, ft := joinKey(path, name), t.Field(i).Type
		switch {
		case isSection(ft):
			keys = append(keys, sectionKeys(ft, key)...)
		case ft.Kind() == reflect.Pointer && isSection(ft.Elem()):
			keys = append(keys, key)
			keys = append(keys, sectionKeys(ft.Elem(), key)...)
		case ft.Kind() == reflect.Slice && isSection(ft.Elem()):
			keys = append(keys, key)
			keys = append(keys, sectionKeys(ft.Elem(), key+"[]")...)
		default:
			keys = append(keys, key)
		}
	}
	return keys
}

func TestSnakeCase(t *testing.T) {
	for name, want := range map[string]string{
		"Realm": "realm", "NonceLifetime": "nonce_lifetime", "MaxTTL": "max_ttl", "UDPPort": "udp_port",
		"MSTurn": "ms_turn", "ClientCAFile": "client_ca_file",
	} {
		if got := snakeCase(name); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", name, got, want)
		}
	}
	if strings.Contains(snakeCase("A"), "_") {
		t.Error("a one-letter name got an underscore")
	}
}
