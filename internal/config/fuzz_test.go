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
	dir := f.TempDir()
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
		case !c.Relay.Address.Is4() || c.Relay.PortMin < minRelayPort || c.Relay.PortMin > c.Relay.PortMax:
			t.Fatalf("bad relay: %+v", c.Relay)
		case len(c.Auth.Secrets) == 0 && len(c.Auth.StaticUsers) == 0:
			t.Fatalf("no credentials")
		case len(c.Auth.NonceKey) < minSecretLen:
			t.Fatalf("nonce key of %d bytes", len(c.Auth.NonceKey))
		case c.Lifetimes.AllocationDefault > c.Lifetimes.AllocationMax:
			t.Fatalf("bad lifetimes: %+v", c.Lifetimes)
		case c.Quotas.AllocationsTotal < 1 || c.Quotas.AllocationsPerUser < 1:
			t.Fatalf("bad quotas: %+v", c.Quotas)
		}
		for _, s := range c.Auth.Secrets {
			if len(s.Value) < minSecretLen {
				t.Fatalf("secret %q of %d bytes", s.ID, len(s.Value))
			}
		}
	})
}
