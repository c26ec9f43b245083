package config

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// examplePath is the sample configuration shipped with avedge.
var examplePath = filepath.Join("..", "..", "configs", "avedge.example.yaml")

func TestExampleRefusesPlaceholders(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	// Next to the certificate files it names, as an operator installs it.
	path := filepath.Join(exampleTLS(t), "avedge.example.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Load(%s) = %v, want the placeholder error", path, err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Key != "auth.secrets[0].secret" {
		t.Errorf("error %v does not name auth.secrets[0].secret", err)
	}
}

func TestExampleParses(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte(placeholder), []byte("replaced"))
	c, err := Parse(examplePath, exampleTLS(t), data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []struct {
		protocol, address string
		tls               bool
	}{
		{"udp", "0.0.0.0:3478", false}, {"udp", "[::]:3478", false},
		{"tcp", "0.0.0.0:443", true}, {"tcp", "[::]:443", true},
	}
	if len(c.Listeners) != len(want) {
		t.Fatalf("Listeners = %v, want %v", c.Listeners, want)
	}
	for i, w := range want {
		if l := c.Listeners[i]; l.Protocol != w.protocol || l.Address.String() != w.address || (l.TLS != nil) != w.tls {
			t.Errorf("Listeners[%d] = %+v, want %v", i, l, w)
		}
	}
	if got := c.Relay.Address; got != netip.MustParseAddr("203.0.113.10") {
		t.Errorf("Relay.Address = %v", got)
	}
	if len(c.Auth.Secrets) != 1 || string(c.Auth.NonceKey) != "replaced-to-another-output-of-openssl-rand-hex-32" {
		t.Errorf("Auth = %v, nonce key of %d bytes", c.Auth, len(c.Auth.NonceKey))
	}
	if c.MSTurn.Enabled {
		t.Error("MS-TURN is on in the example as shipped")
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("Warnings() = %q, want none", w)
	}
}

// uncommented returns the example with its commented section key (the
// lines from "#key:" to the next empty line) uncommented and its
// placeholders replaced.
func uncommented(t *testing.T, key string) string {
	t.Helper()
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte(placeholder), []byte("replaced"))
	var out []string
	on, found := false, false
	for line := range strings.Lines(string(data)) {
		switch {
		case strings.HasPrefix(line, "#"+key+":"):
			on, found = true, true
		case strings.TrimSpace(line) == "":
			on = false
		}
		if on {
			line = strings.TrimPrefix(line, "#")
		}
		out = append(out, line)
	}
	if !found {
		t.Fatalf("the example has no commented %s section", key)
	}
	return strings.Join(out, "")
}

// TestExamplePool uncomments the example's pool section, which must then
// parse.
func TestExamplePool(t *testing.T) {
	c, err := Parse("avedge.example.yaml", exampleTLS(t), []byte(uncommented(t, "pool")))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(c.Pool.AlternateServers) != 2 {
		t.Errorf("pool.alternate_servers = %v, want two siblings", c.Pool.AlternateServers)
	}
}

// TestExampleMSTurn uncomments the example's ms_turn section, which turns
// the dialect on (TestExampleParses: the example as shipped leaves it off).
func TestExampleMSTurn(t *testing.T) {
	dir := exampleTLS(t)
	c, err := Parse("avedge.example.yaml", dir, []byte(uncommented(t, "ms_turn")))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !c.MSTurn.Enabled {
		t.Error("ms_turn.enabled is false with the ms_turn section uncommented")
	}
}

// TestExampleCredentialService uncomments the example's credential_service
// section, which must then parse.
func TestExampleCredentialService(t *testing.T) {
	text := uncommented(t, "credential_service")
	dir := exampleTLS(t)
	if err := os.Rename(filepath.Join(dir, "pki", "ca.crt"), filepath.Join(dir, "pki", "clients-ca.crt")); err != nil {
		t.Fatal(err)
	}
	c, err := Parse("avedge.example.yaml", dir, []byte(text))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	cs := c.CredentialService
	if cs == nil || cs.Listen.String() != "10.1.2.3:5062" || len(cs.Relays.Intranet) != 1 || cs.Relays.Intranet[0].Host != "10.1.2.3" {
		t.Errorf("credential service %+v", cs)
	}
}

// exampleTLS returns a directory holding the example's files: the test
// PKI in pki/ and its service certificate as the TLS listeners' in tls/.
func exampleTLS(t *testing.T) string {
	t.Helper()
	dir := copyPKI(t, 0o600)
	if err := os.Mkdir(filepath.Join(dir, "tls"), 0o700); err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{"service.crt": "turn.example.com.crt", "service.key": "turn.example.com.key"} {
		if err := os.Link(filepath.Join(dir, "pki", from), filepath.Join(dir, "tls", to)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
