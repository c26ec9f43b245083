package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics and that it either fails with an
// *Error wrapping ErrInvalid or returns a configuration that satisfies the
// invariants other packages rely on.
func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte(base + "relya: {}\n"))
	f.Add([]byte("realm: &r x\nsoftware: *r\n"))
	for _, dir := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		for _, path := range files {
			if data, err := os.ReadFile(path); err == nil {
				f.Add(data)
			}
		}
	}
	// Seeds name the test PKI as ../pki/...: give the fuzzed configurations
	// the same layout.
	dir := filepath.Join(f.TempDir(), "cfg")
	if err := os.MkdirAll(filepath.Join(dir, "..", "pki"), 0o700); err != nil {
		f.Fatal(err)
	}
	pems, _ := filepath.Glob(filepath.Join("testdata", "pki", "*.*"))
	for _, path := range pems {
		data, err := os.ReadFile(path)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "..", "pki", filepath.Base(path)), data, 0o600)
		}
		if err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", dir, data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) || e.File != "fuzz.yaml" {
				t.Fatalf("error %v is not an *Error wrapping ErrInvalid", err)
			}
			return
		}
		switch {
		case c.Realm == "" || len(c.Listeners) == 0:
			t.Fatalf("no realm or listeners: %s", c)
		case len(c.Relay.Addrs()) == 0 && !c.Relay.Auto.Address && !c.Relay.Auto.AddressV6,
			c.Relay.Address.IsValid() && !c.Relay.Address.Is4(), c.Relay.AddressV6.IsValid() && !c.Relay.AddressV6.Is6(),
			c.Relay.PortMin < minRelayPort || c.Relay.PortMin > c.Relay.PortMax:
			t.Fatalf("bad relay: %+v", c.Relay)
		case len(c.Auth.Secrets) == 0 && len(c.Auth.StaticUsers) == 0 && c.Auth.UsersFile == "":
			t.Fatalf("no credentials")
		case len(c.Auth.NonceKey) < minSecretLen:
			t.Fatalf("nonce key of %d bytes", len(c.Auth.NonceKey))
		case c.Lifetimes.AllocationDefault > c.Lifetimes.AllocationMax:
			t.Fatalf("bad lifetimes: %+v", c.Lifetimes)
		case c.Quotas.AllocationsTotal < 1 || c.Quotas.AllocationsPerUser < 1:
			t.Fatalf("bad quotas: %+v", c.Quotas)
		}
		if cs := c.CredentialService; cs != nil {
			switch {
			case len(c.Auth.Secrets) == 0:
				t.Fatal("credential service without secrets")
			case cs.MaxTTL < minMaxTTL || cs.MaxTTL > c.Auth.MaxCredentialLifetime:
				t.Fatalf("max_ttl %v with max_credential_lifetime %v", cs.MaxTTL, c.Auth.MaxCredentialLifetime)
			case len(cs.TrustedClients) == 0 || len(cs.Relays.Internet) == 0 || len(cs.Relays.Intranet) == 0:
				t.Fatalf("incomplete credential service: %s", c)
			case !cs.Listen.IsValid() || cs.Listen.Port() == 0 || !(cs.Rate.PerSecond > 0) || cs.Rate.Burst < 1:
				t.Fatalf("bad credential service: %s", c)
			}
		}
		for _, s := range c.Auth.Secrets {
			if len(s.Value) < minSecretLen {
				t.Fatalf("secret %q of %d bytes", s.ID, len(s.Value))
			}
		}
	})
}
