package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runFirewall runs avedge firewall with args.
func runFirewall(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := newFirewallCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

// firewallSample returns the path of a sample configuration of
// internal/firewall and a function reading its golden output for a file
// extension, as avedge firewall prints it.
func firewallSample(t *testing.T, name string) (string, func(ext string) string) {
	t.Helper()
	sample := filepath.Join("..", "..", "internal", "firewall", "testdata", name)
	return sample, func(ext string) string {
		b, err := os.ReadFile(strings.TrimSuffix(sample, ".yaml") + ext)
		if err != nil {
			t.Fatal(err)
		}
		// The sample was parsed under its base name; Load names the path.
		return strings.ReplaceAll(string(b), name, sample)
	}
}

func TestFirewall(t *testing.T) {
	sample, golden := firewallSample(t, "edge.yaml")
	names, namesGolden := firewallSample(t, "names.yaml")
	tests := []struct {
		name    string
		args    []string
		want    string
		wantErr string
	}{
		{"default table", []string{"--config", sample}, golden(".table"), ""},
		{"table", []string{"--config", sample, "--format", "table"}, golden(".table"), ""},
		{"nftables", []string{"--config", sample, "--format", "nftables"}, golden(".nft"), ""},
		{"iptables", []string{"--config", sample, "--format", "iptables"}, golden(".iptables"), ""},
		{"ip6tables", []string{"--config", sample, "--format", "ip6tables"}, golden(".ip6tables"), ""},
		{"table with interface names", []string{"--config", names}, namesGolden(".table"), ""},
		{"nftables with interface names", []string{"--config", names, "--format", "nftables"}, namesGolden(".nft"), ""},
		{"iptables with interface names", []string{"--config", names, "--format", "iptables"}, namesGolden(".iptables"), ""},
		{"ip6tables with interface names", []string{"--config", names, "--format", "ip6tables"}, namesGolden(".ip6tables"), ""},
		{"unknown format", []string{"--config", sample, "--format", "pf"}, "", `--format "pf": want table, nftables, iptables or ip6tables`},
		{"no config", []string{"--format", "table"}, "", "--config FILE is required"},
		{"missing file", []string{"--config", filepath.Join(t.TempDir(), "none.yaml")}, "", "no such file"},
		{"invalid config", []string{"--config", filepath.Join("..", "..", "internal", "config", "testdata", "invalid", "interfaces_cs_external.yaml")}, "", "credential_service.listen: 192.0.2.10:5062: the credential service is for trusted servers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runFirewall(t, tt.args...)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want one containing %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case out != tt.want:
				t.Errorf("output:\n%s\nwant:\n%s", out, tt.want)
			}
		})
	}
}
