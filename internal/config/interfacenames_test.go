package config

import (
	"testing"
)

// namesBase is a two-interface configuration; tests append an interfaces
// section.
const namesBase = `realm: example.com
listeners:
  - {protocol: udp, address: 10.0.0.5:3478}
  - {protocol: udp, address: 192.0.2.10:3478}
auth:
  secrets:
    - id: a
      secret: "0123456789abcdef0123456789abcdef"
`

func TestInterfaceNames(t *testing.T) {
	tests := []struct {
		name               string
		internal, external string
		wantIn, wantEx     string
		wantErr            []string
	}{
		{"both", `{address: 10.0.0.5, name: eth1}`, `{address: 192.0.2.10, name: eth0}`, "eth1", "eth0", nil},
		{"internal only", `{address: 10.0.0.5, name: ens3}`, `{address: 192.0.2.10}`, "ens3", "", nil},
		{"15 bytes", `{address: 10.0.0.5, name: abcdefghijklmno}`, `{address: 192.0.2.10}`, "abcdefghijklmno", "", nil},
		{"vlan and dash", `{address: 10.0.0.5, name: eth0.100}`, `{address: 192.0.2.10, name: br-dmz}`, "eth0.100", "br-dmz", nil},
		{"none", `{address: 10.0.0.5}`, `{address: 192.0.2.10}`, "", "", nil},
		{"16 bytes", `{address: 10.0.0.5, name: abcdefghijklmnop}`, `{address: 192.0.2.10}`, "", "", []string{"interfaces.internal.name", "longer than 15 bytes"}},
		{"empty", `{address: 10.0.0.5, name: ""}`, `{address: 192.0.2.10}`, "", "", []string{"interfaces.internal.name", "must not be empty"}},
		{"slash", `{address: 10.0.0.5}`, `{address: 192.0.2.10, name: "eth/0"}`, "", "", []string{"interfaces.external.name", `"eth/0"`, "'/'"}},
		{"space", `{address: 10.0.0.5, name: "eth 0"}`, `{address: 192.0.2.10}`, "", "", []string{"interfaces.internal.name", "white space"}},
		{"tab", `{address: 10.0.0.5, name: "eth\t0"}`, `{address: 192.0.2.10}`, "", "", []string{"interfaces.internal.name", "white space"}},
		{"colon", `{address: 10.0.0.5, name: "eth0:1"}`, `{address: 192.0.2.10}`, "", "", []string{"interfaces.internal.name", "':'"}},
		{"dot", `{address: 10.0.0.5, name: "."}`, `{address: 192.0.2.10}`, "", "", []string{"interfaces.internal.name", "not a Linux interface name"}},
		{"dot dot", `{address: 10.0.0.5}`, `{address: 192.0.2.10, name: ".."}`, "", "", []string{"interfaces.external.name", "not a Linux interface name"}},
		{"quote", `{address: 10.0.0.5, name: 'eth"0'}`, `{address: 192.0.2.10}`, "", "", []string{"interfaces.internal.name", "printable ASCII"}},
		{"wildcard", `{address: 10.0.0.5, name: "eth+"}`, `{address: 192.0.2.10}`, "", "", []string{"interfaces.internal.name", "'+'"}},
		{"non-ASCII", `{address: 10.0.0.5, name: "éth0"}`, `{address: 192.0.2.10}`, "", "", []string{"interfaces.internal.name", "printable ASCII"}},
		{"same on both sides", `{address: 10.0.0.5, name: eth0}`, `{address: 192.0.2.10, name: eth0}`, "", "", []string{"interfaces.external.name", `"eth0" is interfaces.internal.name too`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := namesBase + "interfaces:\n  internal: " + tt.internal + "\n  external: " + tt.external + "\n"
			c, err := parseString(t, t.TempDir(), src)
			if tt.wantErr != nil {
				wantError(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := c.Interfaces.Internal.Name; got != tt.wantIn {
				t.Errorf("internal name %q, want %q", got, tt.wantIn)
			}
			if got := c.Interfaces.External.Name; got != tt.wantEx {
				t.Errorf("external name %q, want %q", got, tt.wantEx)
			}
		})
	}
}
