package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The secret values of checkConfig: none may appear in any output of
// avedge config check.
const (
	checkSecret     = "inline-secret-4a7f0c2e9b1d"
	checkNonceKey   = "nonce-key-8e3b5d1f7a9c2e4b"
	checkPassword   = "static-password-6c1e9a3f"
	checkAdminToken = "admin-token-2d8f4b6a0e1c3f5a"
)

// checkConfig writes into dir a configuration holding an inline secret, a
// nonce key, a static user's password and an admin token file, with its
// relay address from the environment variable CHECK_RELAY_ADDRESS, and
// returns its path. Its relay ports are the defaults.
func checkConfig(t *testing.T, dir string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "admin.token"), []byte(checkAdminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := `realm: check.test
listeners:
  - protocol: udp
    address: 127.0.0.1:3478
relay:
  address: "${CHECK_RELAY_ADDRESS}"
auth:
  secrets:
    - id: k1
      secret: ` + checkSecret + `
  nonce_key: ` + checkNonceKey + `
  static_users:
    - username: alice
      password: ` + checkPassword + `
admin:
  listen: 127.0.0.1:9478
  token_file: admin.token
`
	path := filepath.Join(dir, "edge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// noSecrets fails the test if out holds one of checkConfig's secret values.
func noSecrets(t *testing.T, name, out string) {
	t.Helper()
	for _, s := range []string{checkSecret, checkNonceKey, checkPassword, checkAdminToken} {
		if strings.Contains(out, s) {
			t.Errorf("%s holds the secret %q:\n%s", name, s, out)
		}
	}
}

// checkValid runs avedge config check on path, written by checkConfig,
// with args and returns its stdout, after checking that it succeeded, that
// stderr holds exactly the expected warning and that no output holds a
// secret.
func checkValid(t *testing.T, path string, args ...string) string {
	t.Helper()
	t.Setenv("CHECK_RELAY_ADDRESS", "192.0.2.7")
	stdout, stderr, err := run(t, context.Background(), append([]string{"config", "check", "--config", path}, args...)...)
	if err != nil {
		t.Fatalf("config check: %v\nstderr: %s", err, stderr)
	}
	noSecrets(t, "stdout", stdout)
	noSecrets(t, "stderr", stderr)
	want := "warning: auth.static_users: static users are for development and tests; use ephemeral credentials (auth.secrets) in production\n"
	if stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	return stdout
}

// wantEffective checks the effective configuration cfg decoded from the
// output: the realm, the expanded relay address, the default relay ports
// and the redacted secrets.
func wantEffective(t *testing.T, cfg map[string]any) {
	t.Helper()
	relay, _ := cfg["relay"].(map[string]any)
	auth, _ := cfg["auth"].(map[string]any)
	admin, _ := cfg["admin"].(map[string]any)
	switch {
	case cfg["realm"] != "check.test":
		t.Errorf("realm %v", cfg["realm"])
	case relay["address"] != "192.0.2.7":
		t.Errorf("relay.address %v, want the environment's 192.0.2.7", relay["address"])
	case number(relay["port_min"]) != 50000 || number(relay["port_max"]) != 59999:
		t.Errorf("relay ports %v-%v, want the default 50000-59999", relay["port_min"], relay["port_max"])
	case auth["nonce_key"] != "REDACTED":
		t.Errorf("auth.nonce_key %v", auth["nonce_key"])
	case !strings.HasSuffix(admin["token_file"].(string), "admin.token"):
		t.Errorf("admin.token_file %v", admin["token_file"])
	}
}

// number returns v, a JSON (float64) or YAML (int) number, as a float64.
func number(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case float64:
		return n
	}
	return -1
}

func TestConfigCheckYAML(t *testing.T) {
	path := checkConfig(t, t.TempDir())
	out := checkValid(t, path)
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, out)
	}
	wantEffective(t, cfg)
	if strings.Contains(out, "{") || strings.Contains(out, `"realm"`) {
		t.Errorf("output is not in block style:\n%s", out)
	}
	// The YAML holds the same values as the JSON form.
	j := checkValid(t, path, "--format", "json")
	var fromJSON, fromYAML any
	if err := json.Unmarshal([]byte(j), &fromJSON); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fromYAML); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, fromYAML) {
		t.Errorf("YAML output differs from the JSON form:\nyaml %v\njson %v", fromYAML, fromJSON)
	}
}

func TestConfigCheckJSON(t *testing.T) {
	out := checkValid(t, checkConfig(t, t.TempDir()), "--format", "json")
	var cfg map[string]any
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	wantEffective(t, cfg)
	if !strings.HasPrefix(out, "{\n  \"source\": ") {
		t.Errorf("output is not indented JSON:\n%s", out)
	}
}

func TestConfigCheckWarningsOfTestdata(t *testing.T) {
	stdout, stderr, err := run(t, context.Background(), "config", "check", "--config", "../../internal/config/testdata/valid/warnings.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(stdout), &cfg); err != nil || cfg["realm"] != "example.com" {
		t.Fatalf("output %v, %v", cfg, err)
	}
	// warnings.yaml draws five warnings, and one more when the checkout
	// lets all users read it (it holds a secret inline).
	var n int
	for line := range strings.Lines(stderr) {
		n++
		if !strings.HasPrefix(line, "warning: ") {
			t.Errorf("stderr line %q is not a warning", line)
		}
	}
	want := "warning: lifetimes.permission: 4m differs from the 5m that RFC 8656 §9 specifies and clients expect\n"
	if n < 5 || !strings.Contains(stderr, want) {
		t.Errorf("stderr %q, want at least 5 warnings, among them %q", stderr, want)
	}
}

func TestConfigCheckInvalid(t *testing.T) {
	stdout, _, err := run(t, context.Background(), "config", "check", "--config", "../../internal/config/testdata/invalid/bad_duration.yaml")
	want := `bad_duration.yaml:12:3: auth.nonce_lifetime: "10 minutes": not a duration`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
	if exitCode(err) != 1 {
		t.Errorf("exit status %d, want 1", exitCode(err))
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing", stdout)
	}
}

func TestConfigCheckUnsetVariable(t *testing.T) {
	path := checkConfig(t, t.TempDir())
	_, _, err := run(t, context.Background(), "config", "check", "--config", path)
	want := "relay.address: environment variable CHECK_RELAY_ADDRESS is not set"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
}

func TestConfigCheckUsage(t *testing.T) {
	path := checkConfig(t, t.TempDir())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", path, "--format", "xml"}, `--format "xml": want yaml or json`},
		{nil, "--config FILE is required"},
		{[]string{"--config", path, "--nosuchflag"}, "unknown flag: --nosuchflag"},
	} {
		stdout, _, err := run(t, context.Background(), append([]string{"config", "check"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || exitCode(err) != exitUsage {
			t.Errorf("%v: error %v (exit status %d), want one containing %q (exit status %d)", tc.args, err, exitCode(err), tc.want, exitUsage)
		}
		if stdout != "" {
			t.Errorf("%v: stdout %q", tc.args, stdout)
		}
	}
}
