package main

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/config"
)

func TestRestartNeeded(t *testing.T) {
	running, err := config.Development(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mod  func(c *config.Config)
		want []string
	}{
		{"nothing", func(*config.Config) {}, nil},
		{"secrets and service files are reloaded", func(c *config.Config) {
			c.Auth.Secrets = append([]config.Secret{{ID: "n", Value: []byte("0123456789abcdef")}}, c.Auth.Secrets...)
			cs := *c.CredentialService
			cs.CertFile, cs.TrustedClients = "/elsewhere.crt", []string{"x.example"}
			c.CredentialService = &cs
		}, nil},
		{"relay", func(c *config.Config) { c.Relay.PortMax = 50010 }, []string{"relay"}},
		{"realm and nonce key", func(c *config.Config) {
			c.Realm = "other"
			c.Auth.NonceKey = []byte("another-nonce-key-0123")
		}, []string{"realm", "auth.nonce_key"}},
		{"static users", func(c *config.Config) {
			c.Auth.StaticUsers = []config.StaticUser{{Username: "u", Password: "p"}}
		}, []string{"auth.static_users"}},
		{"service settings", func(c *config.Config) {
			cs := *c.CredentialService
			cs.Listen = netip.MustParseAddrPort("127.0.0.1:6000")
			cs.MaxTTL = time.Hour
			c.CredentialService = &cs
		}, []string{"credential_service.listen", "credential_service.max_ttl"}},
		{"service turned off", func(c *config.Config) { c.CredentialService = nil }, []string{"credential_service"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := *running
			next.Auth.Secrets = slices.Clone(running.Auth.Secrets)
			tt.mod(&next)
			if got := restartNeeded(running, &next); !slices.Equal(got, tt.want) {
				t.Errorf("restartNeeded = %q, want %q", got, tt.want)
			}
		})
	}
}
