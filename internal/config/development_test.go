package config

import (
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/pki"
)

func TestDevelopmentCreatesAndReusesSecret(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "avedge")
	c, err := Development(dir)
	if err != nil {
		t.Fatalf("Development: %v", err)
	}
	path := filepath.Join(dir, "dev.secret")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("secret file mode = %04o, want 0600", got)
	}
	dirInfo, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := dirInfo.Mode().Perm(); got != 0o700 {
		t.Errorf("state directory mode = %04o, want 0700", got)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	value := strings.TrimSuffix(string(content), "\n")
	if raw, err := hex.DecodeString(value); err != nil || len(raw) != 32 {
		t.Errorf("secret file holds %q, want 32 hex-encoded bytes", content)
	}
	if len(c.Auth.Secrets) != 1 || c.Auth.Secrets[0].ID != "dev" || string(c.Auth.Secrets[0].Value) != value {
		t.Errorf("Secrets = %v, want one secret \"dev\" holding the file's value", c.Auth.Secrets)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 || entries[0].Name() != "admin.token" || entries[1].Name() != "dev.secret" || entries[2].Name() != "pki" {
		t.Errorf("state directory holds %v, want admin.token, dev.secret and pki", entries)
	}

	again, err := Development(dir)
	if err != nil {
		t.Fatalf("second Development: %v", err)
	}
	if string(again.Auth.Secrets[0].Value) != value {
		t.Error("second Development did not reuse the secret")
	}
	if string(again.Auth.NonceKey) != string(deriveNonceKey([]byte(value))) {
		t.Error("nonce key is not derived from the development secret")
	}
}

func TestDevelopmentDefaults(t *testing.T) {
	dir := t.TempDir()
	c, err := Development(dir)
	if err != nil {
		t.Fatal(err)
	}
	tls := &ListenerTLS{CertFile: filepath.Join(dir, DevPKIDir, "service.crt"), KeyFile: filepath.Join(dir, DevPKIDir, "service.key")}
	wantListeners := []Listener{
		{Protocol: "udp", Address: netip.MustParseAddrPort("127.0.0.1:3478")},
		{Protocol: "udp", Address: netip.MustParseAddrPort("[::1]:3478")},
		{Protocol: "tcp", Address: netip.MustParseAddrPort("127.0.0.1:3478"), TLS: tls},
		{Protocol: "tcp", Address: netip.MustParseAddrPort("[::1]:3478"), TLS: tls},
		{Protocol: "tls", Address: netip.MustParseAddrPort("127.0.0.1:5349"), TLS: tls},
		{Protocol: "tls", Address: netip.MustParseAddrPort("[::1]:5349"), TLS: tls},
	}
	wantAllow := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	switch {
	case !c.Development || c.Source != "(development defaults)":
		t.Errorf("Development, Source = %v, %q", c.Development, c.Source)
	case c.Realm != "avedge.local" || c.Software != "avedge":
		t.Errorf("Realm, Software = %q, %q", c.Realm, c.Software)
	case !slices.EqualFunc(c.Listeners, wantListeners, func(a, b Listener) bool {
		return a.Protocol == b.Protocol && a.Address == b.Address && (a.TLS == nil) == (b.TLS == nil) && (a.TLS == nil || *a.TLS == *b.TLS)
	}):
		t.Errorf("Listeners = %v, want %v", c.Listeners, wantListeners)
	case !reflect.DeepEqual(c.Relay, Relay{Address: netip.MustParseAddr("127.0.0.1"), AddressV6: netip.MustParseAddr("::1"), PortMin: 50000, PortMax: 59999, DetectTimeout: defaultDetectTimeout, TCP: true}):
		t.Errorf("Relay = %+v", c.Relay)
	case !c.Peers.DefaultDeny || !slices.Equal(c.Peers.Allow, wantAllow) || len(c.Peers.Deny) != 0:
		t.Errorf("Peers = %+v", c.Peers)
	case c.Lifetimes != defaultLifetimes() || c.Log != defaultLog():
		t.Errorf("Lifetimes, Log = %+v, %+v", c.Lifetimes, c.Log)
	case c.Quotas.AllocationsTotal != 10000 || c.Quotas.AllocationsPerUser != 12:
		t.Errorf("Quotas = %+v", c.Quotas)
	case !c.MSTurn.Enabled: // a configuration file leaves it off (see minimal.golden)
		t.Errorf("MSTurn = %+v, want it on for testing Lync clients", c.MSTurn)
	case len(c.Warnings()) != 0:
		t.Errorf("Warnings() = %q", c.Warnings())
	}
}

func TestDevelopmentCredentialService(t *testing.T) {
	dir := t.TempDir()
	c, err := Development(dir)
	if err != nil {
		t.Fatal(err)
	}
	cs := c.CredentialService
	if cs == nil {
		t.Fatal("no credential service")
	}
	files := pki.DevFiles(filepath.Join(dir, "pki"))
	relays := []ServiceRelay{{Host: "127.0.0.1", UDPPort: 3478, TCPPort: 3478, TLSPort: 5349}, {Host: "::1", UDPPort: 3478, TCPPort: 3478, TLSPort: 5349}}
	switch {
	case cs.Listen != netip.MustParseAddrPort("127.0.0.1:5062"):
		t.Errorf("Listen = %v", cs.Listen)
	case cs.CertFile != files.ServerCert || cs.KeyFile != files.ServerKey || cs.ClientCAFile != files.CACert:
		t.Errorf("files %q %q %q, want those of %+v", cs.CertFile, cs.KeyFile, cs.ClientCAFile, files)
	case !slices.Equal(cs.TrustedClients, []string{pki.DevClientName}):
		t.Errorf("TrustedClients = %q", cs.TrustedClients)
	case cs.MaxTTL != 8*time.Hour || cs.Rate != (Rate{PerSecond: 5, Burst: 20}):
		t.Errorf("MaxTTL %v, Rate %+v", cs.MaxTTL, cs.Rate)
	case !slices.Equal(cs.Relays.Internet, relays) || !slices.Equal(cs.Relays.Intranet, relays):
		t.Errorf("Relays = %+v", cs.Relays)
	}
	// The files it names are a working PKI: the server certificate and key
	// belong together, and the client certificate chains to the CA.
	if _, err := pki.LoadKeyPair(cs.CertFile, cs.KeyFile); err != nil {
		t.Error(err)
	}
	client, err := pki.LoadKeyPair(files.ClientCert, files.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := pki.LoadPool(cs.ClientCAFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	again, err := Development(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.CredentialService.Relays.Internet[0] != relays[0] {
		t.Errorf("second Development: %+v", again.CredentialService)
	}
}

// TestDevelopmentAdminToken: the development edge has admin endpoints on
// loopback whose token is created on first use in the state directory
// (0600, 32 random bytes hex-encoded), reused after, different from the
// secret, and refused when other users may read it.
func TestDevelopmentAdminToken(t *testing.T) {
	dir := t.TempDir()
	c, err := Development(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "admin.token")
	a := c.Admin
	if a == nil || a.Listen != netip.MustParseAddrPort("127.0.0.1:9478") || a.TokenFile != path {
		t.Fatalf("Admin = %v, want 127.0.0.1:9478 with the token in %s", a, path)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("token file mode = %04o, want 0600", got)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	value := strings.TrimSuffix(string(content), "\n")
	if raw, err := hex.DecodeString(value); err != nil || len(raw) != 32 || string(a.Token) != value {
		t.Errorf("token file holds %q, Token %q: want the same 32 hex-encoded bytes", content, a.Token)
	}
	if value == string(c.Auth.Secrets[0].Value) {
		t.Error("the admin token is the development secret")
	}
	if fromFile, err := ReadAdminToken(path); err != nil || string(fromFile) != value {
		t.Errorf("ReadAdminToken = %q, %v", fromFile, err)
	}
	again, err := Development(dir)
	if err != nil || string(again.Admin.Token) != value {
		t.Fatalf("second Development: token %q, %v; want the first one", again.Admin.Token, err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err = Development(dir)
	wantError(t, err, path, "development admin token is accessible to other users (mode 0640)", "chmod 600 "+path)
}

func TestDevelopmentRefusesInsecureKey(t *testing.T) {
	dir := t.TempDir()
	if _, err := Development(dir); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "pki", "client.key")
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Development(dir)
	if !errors.Is(err, pki.ErrInsecureKey) || !strings.Contains(err.Error(), "chmod 600 "+key) {
		t.Errorf("Development = %v, want pki.ErrInsecureKey naming %s", err, key)
	}
}

func TestDevelopmentRefusesBadSecretFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    []string
	}{
		{"readable by others", strings.Repeat("ab", 32) + "\n", 0o644, []string{"mode 0644", "chmod 600 "}},
		{"readable by the group", strings.Repeat("ab", 32) + "\n", 0o640, []string{"mode 0640", "chmod 600 "}},
		{"empty", "", 0o600, []string{"too short (0 bytes, need 16)", "delete the file"}},
		{"short", "abc\n", 0o600, []string{"too short (3 bytes, need 16)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "dev.secret")
			writeFile(t, path, tt.content, tt.mode)
			_, err := Development(dir)
			wantError(t, err, append(tt.want, path)...)
			var e *Error
			if !errors.As(err, &e) || e.File != path {
				t.Errorf("error %v does not name %s", err, path)
			}
		})
	}
}

func TestDevelopmentStateDirUnusable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, "", 0o600)
	_, err := Development(filepath.Join(file, "sub"))
	if err == nil || errors.Is(err, ErrInvalid) {
		t.Errorf("Development under a file = %v, want an I/O error", err)
	}
}

func TestDefaultStateDir(t *testing.T) {
	tests := []struct {
		name, systemd, xdg, home, want string
	}{
		{"STATE_DIRECTORY", "/var/lib/avedge", "/var/lib/xdg", "/home/u", "/var/lib/avedge"},
		{"STATE_DIRECTORY list", "/var/lib/avedge:/var/lib/other", "", "/home/u", "/var/lib/avedge"},
		{"relative STATE_DIRECTORY ignored", "avedge", "", "/home/u", "/home/u/.local/state/avedge"},
		{"XDG_STATE_HOME", "", "/var/lib/xdg", "/home/u", "/var/lib/xdg/avedge"},
		{"relative XDG_STATE_HOME ignored", "", "relative/state", "/home/u", "/home/u/.local/state/avedge"},
		{"no XDG_STATE_HOME", "", "", "/home/u", "/home/u/.local/state/avedge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("STATE_DIRECTORY", tt.systemd)
			t.Setenv("XDG_STATE_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			got, err := DefaultStateDir()
			if err != nil || got != tt.want {
				t.Errorf("DefaultStateDir() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("no home", func(t *testing.T) {
		t.Setenv("STATE_DIRECTORY", "")
		t.Setenv("XDG_STATE_HOME", "")
		t.Setenv("HOME", "")
		if got, err := DefaultStateDir(); err == nil {
			t.Errorf("DefaultStateDir() = %q, want an error", got)
		}
	})
}

func TestDevelopmentConcurrentFirstUse(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	values := make(chan string, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			c, err := Development(dir)
			if err != nil {
				errs <- err
				return
			}
			values <- string(c.Auth.Secrets[0].Value)
		}()
	}
	var first string
	for i := range n {
		select {
		case err := <-errs:
			t.Fatalf("Development: %v", err)
		case v := <-values:
			if i == 0 {
				first = v
			} else if v != first {
				t.Fatalf("concurrent first use produced different secrets")
			}
		}
	}
}
