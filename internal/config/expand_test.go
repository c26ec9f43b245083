package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// envOf returns a lookup function over vars, as os.LookupEnv.
func envOf(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestEnvExpansion(t *testing.T) {
	src := strings.Replace(base, "address: 203.0.113.10", `address: "${NODE_IP}"`, 1) +
		"realm_unused_marker: x\n"
	src = strings.Replace(src, "realm_unused_marker: x\n", "software: \"avedge on $${HOST} ${NODE_NAME}\"\n", 1)
	c, err := ParseEnv("edge.yaml", t.TempDir(), []byte(src), envOf(map[string]string{
		"NODE_IP": "198.51.100.7", "NODE_NAME": "edge-2",
	}))
	if err != nil {
		t.Fatalf("ParseEnv: %v", err)
	}
	if want := netip.MustParseAddr("198.51.100.7"); c.Relay.Address != want {
		t.Errorf("relay.address = %v, want %v", c.Relay.Address, want)
	}
	if want := "avedge on ${HOST} edge-2"; c.Software != want {
		t.Errorf("software = %q, want %q", c.Software, want)
	}
}

func TestEnvExpansionErrors(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  []string
	}{
		{`"${NODE_IP}"`, []string{"edge.yaml:6:", "relay.address", "environment variable NODE_IP is not set"}},
		{`"${NODE_IP"`, []string{"relay.address", "unterminated ${"}},
		{`"${1X}"`, []string{"relay.address", "${1X}: not a variable name"}},
		{`"${}"`, []string{"relay.address", "${}: not a variable name"}},
		{`"${EMPTY}"`, []string{"relay.address", `"": not an IP address`}},
	} {
		t.Run(tc.value, func(t *testing.T) {
			src := strings.Replace(base, "address: 203.0.113.10", "address: "+tc.value, 1)
			_, err := ParseEnv("edge.yaml", t.TempDir(), []byte(src), envOf(map[string]string{"EMPTY": ""}))
			wantError(t, err, tc.want...)
		})
	}
}

// TestParseHasNoEnvironment shows that Parse, unlike Load, sees no
// environment variables, whatever the process has.
func TestParseHasNoEnvironment(t *testing.T) {
	t.Setenv("AVEDGE_TEST_NODE_IP", "198.51.100.7")
	src := strings.Replace(base, "address: 203.0.113.10", `address: "${AVEDGE_TEST_NODE_IP}"`, 1)
	_, err := parseString(t, t.TempDir(), src)
	wantError(t, err, "environment variable AVEDGE_TEST_NODE_IP is not set")
}

func TestLoadExpandsEnvironment(t *testing.T) {
	t.Setenv("AVEDGE_TEST_NODE_IP", "198.51.100.8")
	path := filepath.Join(t.TempDir(), "edge.yaml")
	src := strings.Replace(base, "address: 203.0.113.10", `address: "${AVEDGE_TEST_NODE_IP}"`, 1)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := netip.MustParseAddr("198.51.100.8"); c.Relay.Address != want {
		t.Errorf("relay.address = %v, want %v", c.Relay.Address, want)
	}
}

// TestSecretsAreNotExpanded: inline secrets and passwords are taken as
// written, "${" included, so that no fragment of them reaches an error.
func TestSecretsAreNotExpanded(t *testing.T) {
	secret := "0123456789abcdef${NOT_A_VAR"
	src := strings.Replace(base, `secret: "0123456789abcdef0123456789abcdef"`, `secret: "`+secret+`"`, 1) +
		"  nonce_key: \"${KEY}0123456789abcdef\"\n"
	c, err := ParseEnv("edge.yaml", t.TempDir(), []byte(src), envOf(map[string]string{"KEY": "x"}))
	if err != nil {
		t.Fatalf("ParseEnv: %v", err)
	}
	if got := string(c.Auth.Secrets[0].Value); got != secret {
		t.Errorf("secret = %q, want %q as written", got, secret)
	}
	if got := string(c.Auth.NonceKey); got != "${KEY}0123456789abcdef" {
		t.Errorf("nonce_key = %q, want it as written", got)
	}
}
