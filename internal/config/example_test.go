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
	_, err := Load(examplePath)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Load(%s) = %v, want the placeholder error", examplePath, err)
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
	c, err := Parse(examplePath, filepath.Dir(examplePath), data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []Listener{
		{Protocol: "udp", Address: netip.MustParseAddrPort("0.0.0.0:3478")},
		{Protocol: "udp", Address: netip.MustParseAddrPort("[::]:3478")},
	}
	if len(c.Listeners) != len(want) || c.Listeners[0] != want[0] || c.Listeners[1] != want[1] {
		t.Errorf("Listeners = %v, want %v", c.Listeners, want)
	}
	if got := c.Relay.Address; got != netip.MustParseAddr("203.0.113.10") {
		t.Errorf("Relay.Address = %v", got)
	}
	if len(c.Auth.Secrets) != 1 || string(c.Auth.NonceKey) != "replaced-to-another-output-of-openssl-rand-hex-32" {
		t.Errorf("Auth = %v, nonce key of %d bytes", c.Auth, len(c.Auth.NonceKey))
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("Warnings() = %q, want none", w)
	}
}

// TestExampleCredentialService uncomments the example's credential_service
// section, which must then parse.
func TestExampleCredentialService(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte(placeholder), []byte("replaced"))
	var out []string
	on := false
	for line := range strings.Lines(string(data)) {
		if strings.HasPrefix(line, "#credential_service:") {
			on = true
		}
		if on && strings.HasPrefix(line, "#") {
			line = strings.TrimPrefix(line, "#")
		}
		out = append(out, line)
	}
	if !on {
		t.Fatal("the example has no commented credential_service section")
	}
	dir := copyPKI(t, 0o600)
	if err := os.Rename(filepath.Join(dir, "pki", "ca.crt"), filepath.Join(dir, "pki", "clients-ca.crt")); err != nil {
		t.Fatal(err)
	}
	c, err := Parse("avedge.example.yaml", dir, []byte(strings.Join(out, "")))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	cs := c.CredentialService
	if cs == nil || cs.Listen.String() != "10.1.2.3:5062" || len(cs.Relays.Intranet) != 1 || cs.Relays.Intranet[0].Host != "10.1.2.3" {
		t.Errorf("credential service %+v", cs)
	}
}
