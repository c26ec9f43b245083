package config

import (
	"slices"
	"strings"
	"testing"
)

// sideBase is a configuration with both interfaces and a credential
// service without relays; tests add listeners and top-level keys.
const sideBase = `realm: example.com
interfaces:
  internal: {address: 10.0.0.5, address_v6: "fd00::5"}
  external: {address: 192.0.2.10, address_v6: "2001:db8::10"%s}
auth:
  secrets:
    - id: a
      secret: "0123456789abcdef0123456789abcdef"
` + serviceSection

func TestServiceRelaysFromInterfaces(t *testing.T) {
	tests := []struct {
		name         string
		advertised   string
		extra        string
		listeners    string
		wantInternet []ServiceRelay
		wantIntranet []ServiceRelay
		wantWarn     []string
		wantErr      []string
	}{
		{
			name: "each side its listeners",
			listeners: `  - {protocol: udp, address: 10.0.0.5:3478}
  - {protocol: udp, address: 192.0.2.10:3478}
  - {protocol: tcp, address: 192.0.2.10:3478}
  - {protocol: udp, address: "[fd00::5]:3478"}
`,
			wantInternet: []ServiceRelay{{Host: "192.0.2.10", UDPPort: 3478, TCPPort: 3478}},
			wantIntranet: []ServiceRelay{{Host: "10.0.0.5", UDPPort: 3478}, {Host: "fd00::5", UDPPort: 3478}},
		},
		{
			name:       "advertised names the external IPv4 listeners",
			advertised: ", advertised: 203.0.113.10",
			listeners: `  - {protocol: udp, address: 10.0.0.5:3478}
  - {protocol: udp, address: 192.0.2.10:3478}
  - {protocol: tls, address: 192.0.2.10:443, tls: {cert_file: pki/service.crt, key_file: pki/service.key}}
  - {protocol: udp, address: "[2001:db8::10]:3478"}
`,
			wantInternet: []ServiceRelay{{Host: "203.0.113.10", UDPPort: 3478, TLSPort: 443}, {Host: "2001:db8::10", UDPPort: 3478}},
			wantIntranet: []ServiceRelay{{Host: "10.0.0.5", UDPPort: 3478}},
		},
		{
			name:       "relay.advertised_v6 names the external IPv6 listeners",
			advertised: ", advertised: 203.0.113.10",
			extra:      "relay:\n  advertised_v6: \"2001:db8:1::10\"\n",
			listeners: `  - {protocol: udp, address: 192.0.2.10:3478}
  - {protocol: udp, address: "[2001:db8::10]:3478"}
  - {protocol: udp, address: "[fd00::5]:3478"}
`,
			wantInternet: []ServiceRelay{{Host: "203.0.113.10", UDPPort: 3478}, {Host: "2001:db8:1::10", UDPPort: 3478}},
			wantIntranet: []ServiceRelay{{Host: "fd00::5", UDPPort: 3478}},
		},
		{
			name:       "advertise_host names the external listeners",
			advertised: ", advertised: 203.0.113.10",
			extra:      "advertise_host: turn.example.com\n",
			listeners: `  - {protocol: udp, address: 10.0.0.5:3478}
  - {protocol: udp, address: 192.0.2.10:3478}
  - {protocol: udp, address: "[2001:db8::10]:3479"}
`,
			wantInternet: []ServiceRelay{{Host: "turn.example.com", UDPPort: 3478}},
			wantIntranet: []ServiceRelay{{Host: "10.0.0.5", UDPPort: 3478}},
		},
		{
			name:         "no internal listener: intranet copies internet",
			listeners:    "  - {protocol: udp, address: 192.0.2.10:3478}\n",
			wantInternet: []ServiceRelay{{Host: "192.0.2.10", UDPPort: 3478}},
			wantIntranet: []ServiceRelay{{Host: "192.0.2.10", UDPPort: 3478}},
			wantWarn:     []string{"credential_service.relays.intranet: not set, so intranet callers get the internet relay addresses [192.0.2.10]"},
		},
		{
			name:      "no external listener",
			listeners: "  - {protocol: udp, address: 10.0.0.5:3478}\n",
			wantErr:   []string{"credential_service.relays.internet", "no listener on the external interface"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyPKI(t, 0o600)
			src := strings.Replace(sideBase, "%s", tt.advertised, 1) + tt.extra + "listeners:\n" + tt.listeners
			c, err := parseString(t, dir, src)
			if tt.wantErr != nil {
				wantError(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			r := c.CredentialService.Relays
			if !slices.Equal(r.Internet, tt.wantInternet) {
				t.Errorf("internet relays %+v, want %+v", r.Internet, tt.wantInternet)
			}
			if !slices.Equal(r.Intranet, tt.wantIntranet) {
				t.Errorf("intranet relays %+v, want %+v", r.Intranet, tt.wantIntranet)
			}
			var relayWarnings []string
			for _, w := range c.Warnings() {
				if strings.HasPrefix(w, "credential_service.relays") {
					relayWarnings = append(relayWarnings, w)
				}
			}
			if len(relayWarnings) != len(tt.wantWarn) {
				t.Fatalf("relay warnings %q, want %d", relayWarnings, len(tt.wantWarn))
			}
			for i, w := range tt.wantWarn {
				if !strings.HasPrefix(relayWarnings[i], w) {
					t.Errorf("warning %q, want one starting %q", relayWarnings[i], w)
				}
			}
		})
	}
}
