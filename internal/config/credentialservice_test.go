package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serviceSection is a credential_service section using the test PKI of
// dir (see copyPKI).
const serviceSection = `credential_service:
  cert_file: pki/service.crt
  key_file: pki/service.key
  client_ca_file: pki/ca.crt
  trusted_clients: [app.example.com]
`

// intranetRelays completes serviceSection with intranet relays, which
// draw a warning when missing.
const intranetRelays = `  relays:
    intranet: {host: 10.1.2.3, udp_port: 3478}
`

// copyPKI copies testdata/pki to dir/pki, keys with mode keyMode, and
// returns dir.
func copyPKI(t *testing.T, keyMode os.FileMode) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "pki"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ca.crt", "service.crt", "service.key"} {
		b, err := os.ReadFile(filepath.Join("testdata", "pki", name))
		if err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".key") {
			mode = keyMode
		}
		writeFile(t, filepath.Join(dir, "pki", name), string(b), mode)
	}
	return dir
}

func TestCredentialServiceAbsentIsOff(t *testing.T) {
	c := mustParse(t, t.TempDir(), base)
	if c.CredentialService != nil {
		t.Errorf("CredentialService = %+v, want nil", c.CredentialService)
	}
	if strings.Contains(c.String(), "credential_service") {
		t.Error("String() mentions an absent credential service")
	}
}

func TestCredentialServicePaths(t *testing.T) {
	dir := copyPKI(t, 0o600)
	c := mustParse(t, dir, base+serviceSection+intranetRelays)
	cs := c.CredentialService
	if cs.CertFile != filepath.Join(dir, "pki", "service.crt") || cs.ClientCAFile != filepath.Join(dir, "pki", "ca.crt") {
		t.Errorf("relative paths not resolved against %s: %q, %q", dir, cs.CertFile, cs.ClientCAFile)
	}
	abs := strings.ReplaceAll(serviceSection, "pki/", filepath.Join(dir, "pki")+"/")
	c = mustParse(t, t.TempDir(), base+abs+intranetRelays)
	if c.CredentialService.KeyFile != filepath.Join(dir, "pki", "service.key") {
		t.Errorf("absolute path changed: %q", c.CredentialService.KeyFile)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("Warnings() = %q", w)
	}
}

func TestCredentialServiceKeyMode(t *testing.T) {
	for _, tt := range []struct {
		mode     os.FileMode
		warnings int
	}{{0o600, 0}, {0o640, 0}, {0o644, 1}} {
		dir := copyPKI(t, tt.mode)
		c := mustParse(t, dir, base+serviceSection+intranetRelays)
		w := c.Warnings()
		if len(w) != tt.warnings {
			t.Fatalf("mode %04o: warnings %q", tt.mode, w)
		}
		if tt.warnings > 0 && !strings.Contains(w[0], "credential_service.key_file:") || tt.warnings > 0 && !strings.Contains(w[0], "chmod 600") {
			t.Errorf("warning %q", w[0])
		}
	}
}

func TestCredentialServiceListen(t *testing.T) {
	dir := copyPKI(t, 0o600)
	for _, tt := range []struct{ in, want string }{
		{"10.0.0.1", "10.0.0.1:5062"},
		{"10.0.0.1:8443", "10.0.0.1:8443"},
		{`"::1"`, "[::1]:5062"},
		{`"[fd00::1]:5062"`, "[fd00::1]:5062"},
	} {
		c := mustParse(t, dir, base+serviceSection+"  listen: "+tt.in+"\n")
		if got := c.CredentialService.Listen; got != netip.MustParseAddrPort(tt.want) {
			t.Errorf("listen %s = %v, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCredentialServiceMaxTTL(t *testing.T) {
	dir := copyPKI(t, 0o600)
	tests := []struct {
		auth, svc string
		want      time.Duration
	}{
		{"", "", 8 * time.Hour},
		{"  max_credential_lifetime: 12h\n", "", 8 * time.Hour},
		{"  max_credential_lifetime: 2h\n", "", 2 * time.Hour},
		{"  max_credential_lifetime: 2h\n", "  max_ttl: 2h\n", 2 * time.Hour},
		{"", "  max_ttl: 15m\n", 15 * time.Minute},
	}
	for _, tt := range tests {
		c := mustParse(t, dir, base+tt.auth+serviceSection+tt.svc)
		if got := c.CredentialService.MaxTTL; got != tt.want {
			t.Errorf("auth %q, service %q: MaxTTL %v, want %v", tt.auth, tt.svc, got, tt.want)
		}
	}
}

func TestCredentialServiceRelays(t *testing.T) {
	dir := copyPKI(t, 0o600)
	c := mustParse(t, dir, "advertise_host: turn.example.com\n"+base+serviceSection+`  relays:
    intranet:
      - {host: 10.1.2.3, udp_port: 3478}
      - {host: edge.corp.example, tcp_port: 443}
`)
	r := c.CredentialService.Relays
	wantInternet := []ServiceRelay{{Host: "turn.example.com", UDPPort: 3478}}
	wantIntranet := []ServiceRelay{{Host: "10.1.2.3", UDPPort: 3478}, {Host: "edge.corp.example", TCPPort: 443}}
	if len(r.Internet) != 1 || r.Internet[0] != wantInternet[0] {
		t.Errorf("Internet = %+v, want %+v (advertise_host and the listener port)", r.Internet, wantInternet)
	}
	if len(r.Intranet) != 2 || r.Intranet[0] != wantIntranet[0] || r.Intranet[1] != wantIntranet[1] {
		t.Errorf("Intranet = %+v, want %+v", r.Intranet, wantIntranet)
	}
	if w := c.Warnings(); len(w) != 1 || !strings.HasPrefix(w[0], "credential_service.relays.intranet[1]: tcp_port/tls_port") {
		t.Errorf("Warnings() = %q", w)
	}
}

// TestCredentialServiceRelayWarnings: relays left to defaults that would
// hand callers addresses they cannot use draw warnings.
func TestCredentialServiceRelayWarnings(t *testing.T) {
	dir := copyPKI(t, 0o600)
	privateBase := strings.Replace(base, "address: 203.0.113.10", "address: 10.0.0.5", 1)
	tests := []struct {
		name, src string
		want      []string
	}{
		{"intranet falls back to internet", base + serviceSection,
			[]string{"credential_service.relays.intranet: not set, so intranet callers get the internet relay addresses [203.0.113.10]"}},
		{"both set", base + serviceSection + intranetRelays, nil},
		{"internet derived from a private relay address", privateBase + serviceSection + intranetRelays,
			[]string{"credential_service.relays.internet: not set, so derived from the listeners as 10.0.0.5, which is not a public address"}},
		{"internet derived from a shared (CGNAT) advertise_host", "advertise_host: 100.64.1.2\n" + base + serviceSection + intranetRelays,
			[]string{"credential_service.relays.internet: not set, so derived from the listeners as 100.64.1.2"}},
		{"internet derived from a host name", "advertise_host: turn.example.com\n" + privateBase + serviceSection + intranetRelays, nil},
		{"internet set to a private address", privateBase + serviceSection + `  relays:
    internet: {host: 10.0.0.5, udp_port: 3478}
    intranet: {host: 10.1.2.3, udp_port: 3478}
`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := mustParse(t, dir, tt.src).Warnings()
			if len(w) != len(tt.want) {
				t.Fatalf("Warnings() = %q, want %d", w, len(tt.want))
			}
			for i := range w {
				if !strings.HasPrefix(w[i], tt.want[i]) {
					t.Errorf("warning %q, want it to start with %q", w[i], tt.want[i])
				}
			}
		})
	}
}

func TestIsPublic(t *testing.T) {
	for _, tt := range []struct {
		ip   string
		want bool
	}{
		{"203.0.113.10", true}, {"2001:db8::1", true}, {"8.8.8.8", true},
		{"10.0.0.1", false}, {"192.168.1.1", false}, {"172.16.0.1", false}, {"127.0.0.1", false},
		{"169.254.1.1", false}, {"100.64.0.1", false}, {"::1", false}, {"fd00::1", false}, {"fe80::1", false},
		{"::ffff:10.0.0.1", false}, {"0.0.0.0", false},
	} {
		if got := isPublic(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("isPublic(%s) = %v, want %v", tt.ip, got, tt.want)
		}
	}
}
