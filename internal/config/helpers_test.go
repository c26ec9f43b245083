package config

import (
	"errors"
	"strings"
	"testing"
)

// base is a minimal valid configuration; tests append keys to it (keys that
// are not in it yet) or replace its lines.
const base = `realm: example.com
listeners:
  - protocol: udp
    address: 0.0.0.0:3478
relay:
  address: 203.0.113.10
auth:
  secrets:
    - id: a
      secret: "0123456789abcdef0123456789abcdef"
`

// parseString parses src as "edge.yaml" in dir.
func parseString(t *testing.T, dir, src string) (*Config, error) {
	t.Helper()
	return Parse("edge.yaml", dir, []byte(src))
}

// mustParse parses src and fails the test on error.
func mustParse(t *testing.T, dir, src string) *Config {
	t.Helper()
	c, err := parseString(t, dir, src)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// wantError checks that err is an *Error wrapping ErrInvalid whose text
// contains every one of parts.
func wantError(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
	for _, part := range parts {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
}
