package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/pki"
)

// probeRelayPorts are the relay ports of this file's edges, below Linux's
// ephemeral range (32768 and up), from which the tests' free listener
// ports come: a listener port inside the relay range is a config error.
const probeRelayPorts = "31400-31415"

// localPeer is the address the probe's peer binds to: 127.0.0.1 is the
// edge's own, which it refuses as a peer (no hairpin).
const localPeer = "127.0.0.2"

// runProbe runs "avedge probe args..." through newProbeCmd and returns
// stdout and the error.
func runProbe(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := newProbeCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

func TestProbeUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "name the edge to probe"},
		{[]string{"turn:127.0.0.1", "--user", "alice"}, "--user and --password go together"},
		{[]string{"turn:127.0.0.1", "--user", "a", "--password", "b", "--credentials-from", "https://x"}, "not both"},
		{[]string{"turn:127.0.0.1", "--cert", "c.pem", "--key", "k.pem"}, "give it too"},
		{[]string{"turn:127.0.0.1", "--credentials-from", "https://x", "--cert", "c.pem"}, "--cert and --key go together"},
		{[]string{"http://edge.example.com"}, "invalid URI"},
		{[]string{"turn:edge.example.com?transport=sctp"}, "transport must be udp or tcp"},
		{[]string{"turn:127.0.0.1", "--peer-address", "nowhere"}, "not an IP address"},
		{[]string{"turn:127.0.0.1", "--timeout", "0s"}, "must be positive"},
		{[]string{"turn:127.0.0.1", "--no-such-flag"}, "unknown flag"},
		{[]string{"turn:127.0.0.1", "--ca", "/nonexistent/ca.pem"}, "--ca"},
		{[]string{"turn:127.0.0.1", "--user", "a", "--password", "b", "--password-file", "f"}, "--password or --password-file, not both"},
		{[]string{"turn:127.0.0.1", "--user", "a", "--password-file", "/nonexistent/password"}, "--password-file"},
	} {
		_, err := runProbe(t, tc.args...)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: exit %d, error %v; want %d and %q", tc.args, exitCode(err), err, exitUsage, tc.want)
		}
	}
}

// probeEdge runs "avedge serve" with a UDP listener, a TCP listener that
// also serves TLS (with the development service certificate, for
// 127.0.0.1), and the credential service, trusting the development client
// of its PKI. It returns the PKI files, the secret, the service URL and the
// UDP and TCP ports.
func probeEdge(t *testing.T) (f pki.Files, secret auth.Secret, service string, udpPort, tcpPort int) {
	t.Helper()
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := t.TempDir()
	if _, _, err := run(t, context.Background(), "pki", "dev", "--out", filepath.Join(dir, "pki")); err != nil {
		t.Fatal(err)
	}
	f = pki.DevFiles(filepath.Join(dir, "pki"))
	secret = auth.Secret{ID: "k1", Value: []byte("probe-cli-secret-0123456789")}
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, secret.Value, 0o600); err != nil {
		t.Fatal(err)
	}
	udpPort, tcpPort, svcPort := freeUDPPort(t), freeTCPPort(t), freeTCPPort(t)
	cfg := fmt.Sprintf(`realm: probe.test
listeners:
  - protocol: udp
    address: 127.0.0.1:%d
  - protocol: tcp
    address: 127.0.0.1:%d
    tls: {cert_file: pki/service.crt, key_file: pki/service.key}
relay:
  address: 127.0.0.1
  ports: %s
auth:
  secrets:
    - {id: "k1", secret_file: %s}
peers:
  allow: [127.0.0.0/8]
credential_service:
  listen: 127.0.0.1:%d
  cert_file: pki/service.crt
  key_file: pki/service.key
  client_ca_file: pki/ca.crt
  trusted_clients: [%s]
  max_ttl: 2h
`, udpPort, tcpPort, probeRelayPorts, secretFile, svcPort, pki.DevClientName)
	path := filepath.Join(dir, "avedge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	serve(t, path, "credential service listening")
	return f, secret, fmt.Sprintf("https://127.0.0.1:%d", svcPort), udpPort, tcpPort
}

// jsonReport is the JSON report of "avedge probe --json".
type jsonReport struct {
	Target string `json:"target"`
	Checks []struct {
		Name, Status, Detail, Remedy string
	} `json:"checks"`
	OK bool `json:"ok"`
}

// statuses maps the check names of a JSON report to their statuses.
func statuses(t *testing.T, out string) (jsonReport, map[string]string) {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, out)
	}
	m := make(map[string]string)
	for _, c := range r.Checks {
		m[c.Name] = c.Status
	}
	return r, m
}

// TestProbeCredentialService: with --credentials-from, --cert, --key and
// --ca and no URI, the probe asks the credential service over mutual TLS
// and probes the URIs it hands out (UDP, TCP and TLS) with that credential.
func TestProbeCredentialService(t *testing.T) {
	f, _, service, udpPort, tcpPort := probeEdge(t)
	out, err := runProbe(t, "--credentials-from", service, "--cert", f.ClientCert, "--key", f.ClientKey, "--ca", f.CACert,
		"--identity", "alice", "--json", "--timeout", "2s", "--peer-address", localPeer)
	r, st := statuses(t, out)
	if err != nil || !r.OK {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	for _, name := range []string{
		"credentials",
		fmt.Sprintf("allocate udp 127.0.0.1:%d", udpPort),
		fmt.Sprintf("allocate tcp 127.0.0.1:%d", tcpPort),
		fmt.Sprintf("allocate tls 127.0.0.1:%d", tcpPort),
		fmt.Sprintf("round-trip tls 127.0.0.1:%d", tcpPort),
		"clock",
	} {
		if st[name] != "pass" {
			t.Errorf("%s: %q, want pass\n%s", name, st[name], out)
		}
	}
	// A client certificate of another CA gets no credential.
	other := t.TempDir()
	if _, _, err := run(t, context.Background(), "pki", "dev", "--new-ca", "--out", other); err != nil {
		t.Fatal(err)
	}
	of := pki.DevFiles(other)
	out, err = runProbe(t, "--credentials-from", service, "--cert", of.ClientCert, "--key", of.ClientKey, "--ca", f.CACert,
		fmt.Sprintf("turn:127.0.0.1:%d", udpPort), "--timeout", "2s")
	if exitCode(err) != exitChecksFailed || !strings.Contains(out, "FAIL  credentials") || !strings.Contains(out, "SKIP  allocate udp") {
		t.Errorf("client of another CA: exit %d (%v)\n%s", exitCode(err), err, out)
	}
}

// TestProbeCredentialsFromHTTPS: a web application's HTTPS endpoint that
// answers the TURN REST API shape; a wrong password fails with exit
// status 1 and the remedy on the report.
func TestProbeCredentialsFromHTTPS(t *testing.T) {
	_, secret, _, udpPort, tcpPort := probeEdge(t)
	password := func(user string) string { return auth.RESTPassword(secret.Value, user) }
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := fmt.Sprintf("%d:bob", time.Now().Add(time.Hour).Unix())
		pass := password(user)
		if r.URL.Query().Get("broken") != "" {
			pass = "wrong"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"username": user, "password": pass, "ttl": 3600,
			"uris": []string{fmt.Sprintf("turn:127.0.0.1:%d?transport=udp", udpPort), fmt.Sprintf("turn:127.0.0.1:%d?transport=tcp", tcpPort)}})
	}))
	t.Cleanup(ts.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runProbe(t, "--credentials-from", ts.URL+"/turn", "--ca", ca, "--json", "--timeout", "2s", "--peer-address", localPeer)
	r, st := statuses(t, out)
	if err != nil || !r.OK || st[fmt.Sprintf("round-trip tcp 127.0.0.1:%d", tcpPort)] != "pass" {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	for _, c := range r.Checks {
		if c.Name == "clock" && !strings.Contains(c.Detail, "in step with the issuer") && !strings.Contains(c.Detail, "1s") {
			t.Errorf("clock: %q, want the skew against the Date header", c.Detail)
		}
	}
	out, err = runProbe(t, "--credentials-from", ts.URL+"/turn?broken=1", "--ca", ca, "--timeout", "2s", "--peer-address", localPeer)
	if exitCode(err) != exitChecksFailed || !strings.Contains(err.Error(), "checks failed") ||
		!strings.Contains(out, "remedy: wrong username or password") {
		t.Errorf("wrong password: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	// Without --ca the test server's certificate does not verify.
	out, err = runProbe(t, "--credentials-from", ts.URL+"/turn", "--timeout", "2s", "--peer-address", localPeer)
	if exitCode(err) != exitChecksFailed || !strings.Contains(out, "give its CA with --ca") {
		t.Errorf("unknown CA: exit %d (%v)\n%s", exitCode(err), err, out)
	}
}

// TestProbePasswordFile: --user with --password-file authenticates like
// --password, reading only the file's first line.
func TestProbePasswordFile(t *testing.T) {
	_, secret, _, udpPort, _ := probeEdge(t)
	user := fmt.Sprintf("%d:carol", time.Now().Add(time.Hour).Unix())
	file := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(file, []byte(auth.RESTPassword(secret.Value, user)+"\nnot the password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runProbe(t, fmt.Sprintf("turn:127.0.0.1:%d?transport=udp", udpPort), "--user", user, "--password-file", file, "--timeout", "2s", "--peer-address", localPeer)
	if err != nil || !strings.Contains(out, "PASS  allocate udp") {
		t.Fatalf("probe: %v\n%s", err, out)
	}
}
