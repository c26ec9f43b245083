package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/pki"
)

// placeholderMark starts every value an operator must replace in a sample.
const placeholderMark = "CHANGE-ME"

// topology is a sample of configs/ and the test values that fill it.
type topology struct {
	// file is the sample's name in configs/.
	file string
	// at is where the sample is installed, under /etc/avedge.
	at string
	// fill maps each placeholder of the sample to its test value.
	fill map[string]string
	// env is the environment the sample is checked in.
	env map[string]string
	// refusedKey is the key the error about the sample as shipped names.
	refusedKey string
	// warnings is what avedge config check writes to stderr for the
	// filled sample.
	warnings string
}

// topologies are the samples of configs/, with the values that
// docs/topologies.md states for their firewall tables.
var topologies = []topology{
	{
		file: "cloud-vm-nat.yaml",
		at:   "/etc/avedge/avedge.yaml",
		fill: map[string]string{
			"CHANGE-ME-PRIVATE-IP": "10.0.0.5",
			"CHANGE-ME-PUBLIC-IP":  "203.0.113.10",
		},
		refusedKey: "relay.address",
	},
	{
		file: "enterprise-edge.yaml",
		at:   "/etc/avedge/avedge.yaml",
		fill: map[string]string{
			"CHANGE-ME-INTERNAL-IP":  "10.0.0.5",
			"CHANGE-ME-EXTERNAL-IP":  "198.51.100.10",
			"CHANGE-ME-SIBLING-1-IP": "198.51.100.11",
			"CHANGE-ME-SIBLING-2-IP": "198.51.100.12",
		},
		refusedKey: "interfaces.internal.address",
	},
	{
		// Its placeholders are the Secrets' of deploy/kubernetes/avedge.yaml:
		// the files the DaemonSet mounts.
		file: "kubernetes.yaml",
		at:   "/etc/avedge/config/avedge.yaml",
		env:  map[string]string{"NODE_IP": "198.51.100.7"},
		// A node has one interface: intranet callers get its address too.
		warnings: "warning: credential_service.relays.intranet: not set, so intranet callers get the internet relay addresses [turn.example.com]; set it to the addresses of the internal interface\n",
	},
}

// fileKey matches a key whose value is a file under /etc/avedge.
var fileKey = regexp.MustCompile(`([a-z_]+):\s+(/etc/avedge/[^\s,}\]]+)`)

// secretKeys are the keys whose file holds a secret value.
var secretKeys = []string{"secret_file", "nonce_key_file", "token_file"}

// uncommented returns text without its comments: what follows a # at the
// start of a line or after a blank. The samples hold no # in a value.
func uncommented(text string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		if i := strings.Index(line, "#"); i == 0 || i > 0 && (line[i-1] == ' ' || line[i-1] == '\t') {
			line = line[:i] + "\n"
		}
		b.WriteString(line)
	}
	return b.String()
}

// install writes s, with its placeholders replaced by their test values
// when fill is true, at its place under root, and the files it names under
// /etc/avedge there too: a development PKI's certificates and keys, the
// secret files holding secret (a value of 64 hex digits, or a placeholder)
// and an empty revocations file. Paths under /etc/avedge in the sample
// resolve under root. It returns the installed configuration's path.
func install(t *testing.T, s topology, root string, fill bool, secret string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "configs", s.file))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if fill {
		for placeholder, value := range s.fill {
			text = strings.ReplaceAll(text, placeholder, value)
		}
	}
	dev, err := pki.WriteDev(filepath.Join(t.TempDir(), "pki"), pki.DevOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	copyOf := map[string]string{"cert_file": dev.ServerCert, "key_file": dev.ServerKey, "client_ca_file": dev.CACert}
	for _, m := range fileKey.FindAllStringSubmatch(uncommented(text), -1) {
		key, path := m[1], filepath.Join(root, m[2])
		var content []byte
		switch {
		case copyOf[key] != "":
			if content, err = os.ReadFile(copyOf[key]); err != nil {
				t.Fatal(err)
			}
		case slices.Contains(secretKeys, key):
			content = []byte(secret + "\n")
		case key == "revocations_file":
			content = []byte(`{"version":1,"revocations":[]}` + "\n")
		default:
			t.Fatalf("%s: %s names %s, a file this test does not know how to write", s.file, key, m[2])
		}
		writeFile(t, path, content)
	}
	text = strings.ReplaceAll(text, " /etc/avedge/", " "+filepath.Join(root, "etc", "avedge")+"/")
	path := filepath.Join(root, s.at)
	writeFile(t, path, []byte(text))
	return path
}

// writeFile writes content to path, mode 0600, creating its directories.
func writeFile(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
}

// setEnv sets the environment of s for the rest of the test.
func setEnv(t *testing.T, s topology) {
	t.Helper()
	for name, value := range s.env {
		t.Setenv(name, value)
	}
}

// TestSampleConfigsCheck fills each sample as an operator does and checks
// it as avedge config check does: it must pass with no warning but those
// expected, and leave no placeholder in a value.
func TestSampleConfigsCheck(t *testing.T) {
	for _, s := range topologies {
		t.Run(s.file, func(t *testing.T) {
			setEnv(t, s)
			path := install(t, s, t.TempDir(), true, strings.Repeat("5e", 32))
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if v := uncommented(string(data)); strings.Contains(v, placeholderMark) {
				t.Errorf("a placeholder this test does not fill is left in a value:\n%s", v)
			}
			stdout, stderr, err := run(t, context.Background(), "config", "check", "--config", path)
			if err != nil {
				t.Fatalf("config check: %v\nstderr: %s", err, stderr)
			}
			if stderr != s.warnings {
				t.Errorf("config check warns:\n%s\nwant:\n%s", stderr, s.warnings)
			}
			if strings.Contains(stdout, placeholderMark) {
				t.Errorf("the effective configuration holds a placeholder:\n%s", stdout)
			}
		})
	}
}

// TestSampleConfigsRefusePlaceholders checks that each sample is refused
// until its placeholders are replaced: those in its values, and those of
// its secret files as the Kubernetes Secrets ship them.
func TestSampleConfigsRefusePlaceholders(t *testing.T) {
	for _, s := range topologies {
		t.Run(s.file, func(t *testing.T) {
			setEnv(t, s)
			text, err := os.ReadFile(filepath.Join("..", "..", "configs", s.file))
			if err != nil {
				t.Fatal(err)
			}
			for placeholder := range s.fill {
				if !strings.Contains(uncommented(string(text)), placeholder) {
					t.Errorf("the sample has no value %s", placeholder)
				}
			}
			if s.refusedKey != "" {
				path := install(t, s, t.TempDir(), false, strings.Repeat("5e", 32))
				_, _, err := run(t, context.Background(), "config", "check", "--config", path)
				if err == nil || !strings.Contains(err.Error(), s.refusedKey+": ") || !strings.Contains(err.Error(), placeholderMark) {
					t.Errorf("the sample as shipped: error %v, want one naming %s and its placeholder", err, s.refusedKey)
				}
			}
			path := install(t, s, t.TempDir(), true, "CHANGE-ME-openssl-rand-hex-32")
			_, _, err = run(t, context.Background(), "config", "check", "--config", path)
			if err == nil || !strings.Contains(err.Error(), "auth.secrets[0].secret_file: ") || !strings.Contains(err.Error(), "still the example placeholder") {
				t.Errorf("placeholder secret files: error %v, want the placeholder error of auth.secrets[0].secret_file", err)
			}
		})
	}
}

// TestSampleConfigsFirewallDocs checks that docs/topologies.md shows the
// port table avedge firewall prints for each sample filled with the test
// values, which it states.
func TestSampleConfigsFirewallDocs(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "topologies.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range topologies {
		t.Run(s.file, func(t *testing.T) {
			setEnv(t, s)
			path := install(t, s, t.TempDir(), true, strings.Repeat("5e", 32))
			table, err := runFirewall(t, "--config", path, "--format", "table")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(doc), "```\n"+table+"```\n") {
				t.Errorf("docs/topologies.md lacks the port table of %s:\n%s", s.file, table)
			}
			for _, values := range []map[string]string{s.fill, s.env} {
				for name, value := range values {
					if !strings.Contains(string(doc), "`"+name+"` = `"+value+"`") {
						t.Errorf("docs/topologies.md does not state %s = %s", name, value)
					}
				}
			}
		})
	}
}
