package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "secrets", "s1"), "fedcba9876543210fedcba9876543210\n", 0o600)
	src := strings.Replace(base, `      secret: "0123456789abcdef0123456789abcdef"`, "      secret_file: secrets/s1", 1)
	path := filepath.Join(dir, "edge.yaml")
	writeFile(t, path, src, 0o644)

	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Source != path {
		t.Errorf("Source = %q, want %q", c.Source, path)
	}
	if got := string(c.Auth.Secrets[0].Value); got != "fedcba9876543210fedcba9876543210" {
		t.Errorf("secret = %q, want the file's content without its newline", got)
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Errorf("Load(missing) = %v, want a not-exist error that is not ErrInvalid", err)
	}

	writeFile(t, path, base+"bogus: 1\n", 0o644)
	_, err = Load(path)
	wantError(t, err, path+":11:1: bogus: unknown key")
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask may have cleared bits
		t.Fatal(err)
	}
}

func TestSecretFile(t *testing.T) {
	const value = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name     string
		content  string
		mode     os.FileMode
		want     string
		warnings int
	}{
		{"one newline trimmed", value + "\n", 0o600, value, 0},
		{"only one newline trimmed", value + "\n\n", 0o600, value + "\n", 0},
		{"CRLF trimmed", value + "\r\n", 0o600, value, 0},
		{"no newline", value, 0o600, value, 0},
		{"group readable is fine", value, 0o640, value, 0},
		{"world readable warns", value, 0o644, value, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "s"), tt.content, tt.mode)
			src := strings.Replace(base, `      secret: "0123456789abcdef0123456789abcdef"`, "      secret_file: s", 1)
			c := mustParse(t, dir, src)
			if got := string(c.Auth.Secrets[0].Value); got != tt.want {
				t.Errorf("secret = %q, want %q", got, tt.want)
			}
			if w := c.Warnings(); len(w) != tt.warnings {
				t.Errorf("Warnings() = %q, want %d", w, tt.warnings)
			}
		})
	}
}

// TestInlineSecretsInReadableFile: a configuration file that all users
// may read draws a warning naming the keys that hold secrets inline; a
// file only its group may read, or one without inline secrets, does not
// (security review 2026-12, finding 16).
func TestInlineSecretsInReadableFile(t *testing.T) {
	const key = "fedcba9876543210fedcba9876543210"
	withFile := strings.Replace(base, `      secret: "0123456789abcdef0123456789abcdef"`, "      secret_file: s", 1)
	tests := []struct {
		name string
		src  string
		mode os.FileMode
		want string // the warning, "" for none
	}{
		{"world readable inline secret", base, 0o644,
			`auth.secrets[0].secret: "%s" holds secrets inline (auth.secrets[0].secret) and is accessible to all users (mode 0644); run: chmod o-rwx %[1]s, or move the secrets to secret_file and nonce_key_file`},
		{"every inline secret named", base + "  nonce_key: \"" + key + "\"\n  static_users:\n    - {username: u, password: p}\n", 0o604,
			`auth.secrets[0].secret: "%s" holds secrets inline (auth.secrets[0].secret, auth.nonce_key, auth.static_users[0].password) and is accessible to all users (mode 0604)`},
		{"group readable", base, 0o640, ""},
		{"owner only", base, 0o600, ""},
		{"no inline secret", withFile, 0o644, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "s"), key+"\n", 0o600)
			path := filepath.Join(dir, "edge.yaml")
			writeFile(t, path, tt.src, tt.mode)
			c, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			var found []string
			for _, w := range c.Warnings() {
				if strings.Contains(w, "inline") {
					found = append(found, w)
				}
			}
			switch {
			case tt.want == "" && len(found) != 0:
				t.Errorf("warnings %q, want none about inline secrets", found)
			case tt.want != "" && (len(found) != 1 || !strings.HasPrefix(found[0], fmt.Sprintf(tt.want, path))):
				t.Errorf("warnings %q, want one starting with %q", found, fmt.Sprintf(tt.want, path))
			}
			for _, w := range c.Warnings() {
				if strings.Contains(w, "0123456789abcdef") || strings.Contains(w, key) {
					t.Errorf("warning %q leaks a secret", w)
				}
			}
		})
	}
}

func TestSecretFileErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "big"), strings.Repeat("x", maxSecretFileLen+1), 0o600)
	writeFile(t, filepath.Join(dir, "placeholder"), "CHANGE-ME-please-do-it-now\n", 0o600)
	abs := filepath.Join(dir, "abs")
	writeFile(t, abs, "short\n", 0o600)
	tests := []struct {
		name, file string
		want       []string
	}{
		{"directory", ".", []string{"auth.secrets[0].secret_file", "is not a regular file"}},
		{"too large", "big", []string{"is larger than 4096 bytes"}},
		{"placeholder", "placeholder", []string{"still the example placeholder"}},
		{"absolute path", abs, []string{`"` + abs + `": too short (5 bytes)`}},
		{"empty name", `""`, []string{"auth.secrets[0].secret_file: must not be empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(base, `      secret: "0123456789abcdef0123456789abcdef"`, "      secret_file: "+tt.file, 1)
			_, err := parseString(t, dir, src)
			wantError(t, err, tt.want...)
		})
	}
}

func TestNonceKey(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "nonce.key"), "from-a-file-0123456789\n", 0o600)
	tests := []struct {
		name, extra, want string
	}{
		{"derived from the first secret", "", string(deriveNonceKey([]byte("0123456789abcdef0123456789abcdef")))},
		{"inline", "  nonce_key: \"pool-wide-0123456789\"\n", "pool-wide-0123456789"},
		{"from a file", "  nonce_key_file: nonce.key\n", "from-a-file-0123456789"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, dir, base+tt.extra)
			if got := string(c.Auth.NonceKey); got != tt.want {
				t.Errorf("NonceKey = %x, want %x", got, tt.want)
			}
		})
	}
}

func TestDeriveNonceKey(t *testing.T) {
	// echo -n "avedge nonce key v1" | openssl dgst -sha256 -hmac 0123456789abcdef
	const want = "7188d5b9c1df29d5288e3eefc7fafbd3ce9539e63ae7401cfe2b5a2da0cc310e"
	if got := hex.EncodeToString(deriveNonceKey([]byte("0123456789abcdef"))); got != want {
		t.Errorf("deriveNonceKey = %s, want %s", got, want)
	}
}

func TestRedaction(t *testing.T) {
	src := base + `  nonce_key: "nonce-key-0123456789"
  static_users:
    - username: alice
      password: wonderland
`
	c := mustParse(t, t.TempDir(), src)
	secrets := []string{"0123456789abcdef", "nonce-key-0123456789", "wonderland"}
	forms := map[string]string{
		"String":     c.String(),
		"%v *Config": fmt.Sprintf("%v", c),
		"%+v Config": fmt.Sprintf("%+v", *c),
		"%v Auth":    fmt.Sprintf("%v", c.Auth),
		//lint:ignore S1025 the point is to go through fmt's %s verb
		"%s Secret":     fmt.Sprintf("%s", c.Auth.Secrets[0]),
		"%v StaticUser": fmt.Sprintf("%v", c.Auth.StaticUsers[0]),
	}
	for name, s := range forms {
		if !strings.Contains(s, "REDACTED") {
			t.Errorf("%s = %q, want REDACTED in it", name, s)
		}
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("%s reveals %q: %s", name, secret, s)
			}
		}
	}
}

func TestWarningsIsACopy(t *testing.T) {
	c := mustParse(t, t.TempDir(), base+"peers:\n  default_deny: false\n")
	w := c.Warnings()
	if len(w) != 1 {
		t.Fatalf("Warnings() = %q, want one", w)
	}
	w[0] = "changed"
	if c.Warnings()[0] == "changed" {
		t.Error("Warnings() exposes the Config's slice")
	}
}

func TestIdentity(t *testing.T) {
	tests := []struct {
		name, line string
		want       []string // empty: valid
	}{
		{"realm of 127 characters", "realm: " + strings.Repeat("é", 127), nil},
		{"realm of 128 characters", "realm: " + strings.Repeat("a", 128), []string{"realm: too long (128 characters)"}},
		{"realm of 127 4-byte characters", "realm: " + strings.Repeat("😀", 127), nil},
		{"realm with a control character", `realm: "a\tb"`, []string{"must not contain control characters"}},
		{"empty realm", `realm: ""`, []string{"realm: must not be empty"}},
		{"static user name of 508 bytes", "  static_users: [{username: " + strings.Repeat("u", 508) + ", password: p}]", nil},
		{"static user name of 509 bytes", "  static_users: [{username: " + strings.Repeat("u", 509) + ", password: p}]", []string{"auth.static_users[0].username: too long (509 bytes)"}},
		{"static user name with a newline", "  static_users: [{username: \"a\\nb\", password: p}]", []string{"must not contain control characters"}},
		{"software disabled", `software: ""`, nil},
		{"software too long", "software: " + strings.Repeat("s", 128), []string{"software: too long"}},
		{"advertise IPv4", "advertise_host: 198.51.100.7", nil},
		{"advertise IPv6", `advertise_host: "2001:db8::7"`, nil},
		{"advertise host name", "advertise_host: turn-1.eu.example.com", nil},
		{"advertise label too long", "advertise_host: " + strings.Repeat("a", 64) + ".example.com", []string{"not a host name"}},
		{"advertise leading hyphen", "advertise_host: -turn.example.com", []string{"not a host name"}},
		{"advertise empty label", "advertise_host: turn..example.com", []string{"not a host name"}},
		{"advertise URI", "advertise_host: turn:turn.example.com", []string{"not a host name"}},
		{"advertise brackets", `advertise_host: "[2001:db8::7]"`, []string{"not a host name"}},
		{"advertise zone", `advertise_host: "fe80::1%eth0"`, []string{"not a host name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := base + tt.line + "\n"
			if key, _, _ := strings.Cut(tt.line, ":"); strings.Contains(base, key+":") {
				src = strings.Replace(base, key+":", "# "+key+":", 1) + tt.line + "\n"
			}
			_, err := parseString(t, t.TempDir(), src)
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Parse: %v", err)
				}
				return
			}
			wantError(t, err, tt.want...)
		})
	}
}

func TestValueErrors(t *testing.T) {
	tests := []struct {
		name, extra, want string
	}{
		{"float for integer", "workers: 1.5", `workers: "1.5": expected an integer`},
		{"integer overflow", "workers: 99999999999999999999", `workers: "99999999999999999999": expected an integer`},
		{"boolean for string", "software: true", "software: expected a string, got a boolean (quote the value)"},
		{"timestamp for string", "software: 2026-11-01", "software: expected a string, got a timestamp"},
		{"float for string", "software: 1.5", "software: expected a string, got a number"},
		{"binary for string", "software: !!binary aGVsbG8=", "software: expected a string, got a !!binary value"},
		{"mapping for string", "log: {format: {a: 1}}", "log.format: expected a string, got a mapping"},
		{"null scalar", "workers: ~", "workers: missing value (expected an integer)"},
		{"boolean for duration", "lifetimes: {channel: true}", `lifetimes.channel: expected a duration such as "10m", got a boolean`},
		{"float duration", "lifetimes: {channel: 1.5}", `lifetimes.channel: 1.5: number without a unit (write e.g. "1.5s" or "10m")`},
		{"list for boolean", "peers: {default_deny: [true]}", "peers.default_deny: expected true or false, got a list"},
		{"mapping prefix", "peers: {allow: [{a: 1}]}", "peers.allow[0]: expected a string, got a mapping"},
		{"zoned prefix", `peers: {allow: ["fe80::1%eth0"]}`, `peers.allow[0]: "fe80::1%eth0": not an IP address or CIDR prefix`},
		{"typo with a digit", `relay2: x`, `relay2: unknown key (did you mean "relay"?)`},
		{"integer key", "1: x", "1: unknown key (known keys: realm, software"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseString(t, t.TempDir(), base+tt.extra+"\n")
			wantError(t, err, "edge.yaml:", tt.want)
		})
	}
}

func TestRelayValues(t *testing.T) {
	tests := []struct {
		name, relay, want string
	}{
		{"broadcast", "address: 255.255.255.255", `"255.255.255.255": must be a unicast address`},
		{"port with sign", `{address: 203.0.113.10, ports: "+1024-2000"}`, `not a port range`},
		{"port too long", `{address: 203.0.113.10, ports: "001024-2000"}`, `not a port range`},
		{"empty bound", `{address: 203.0.113.10, ports: "-2000"}`, `not a port range`},
		{"above 65535", `{address: 203.0.113.10, ports: "60000-70000"}`, `ports must lie within 1024-65535`},
		{"single-port range", `{address: 203.0.113.10, ports: "3000-3000"}`, ""},
		{"listener on another address", `{address: 203.0.113.10, ports: "3000-4000"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(base, "relay:\n  address: 203.0.113.10\n", "relay: "+tt.relay+"\n", 1)
			if !strings.HasPrefix(tt.relay, "{") {
				src = strings.Replace(base, "  address: 203.0.113.10\n", "  "+tt.relay+"\n", 1)
			}
			src = strings.Replace(src, "0.0.0.0:3478", "192.0.2.1:3478", 1)
			c, err := parseString(t, t.TempDir(), src)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if c.Quotas.AllocationsTotal != c.Relay.Ports() {
					t.Errorf("AllocationsTotal = %d, want the %d relay ports", c.Quotas.AllocationsTotal, c.Relay.Ports())
				}
				return
			}
			wantError(t, err, tt.want)
		})
	}
}
