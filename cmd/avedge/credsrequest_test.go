package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/mras"
	"github.com/avedge/avedge/internal/pki"
	"github.com/avedge/avedge/internal/turntest"
)

// freeTCPPort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// served is "avedge serve" running in the test, with its log lines.
type served struct {
	t     *testing.T
	lines chan string
	// done gets what serve returns; exited takes it, and then the end of
	// the test does not check it.
	done   chan error
	exited bool
}

// serve runs "avedge serve --config path" until the test ends and waits
// for the log line that contains every part of ready.
func serve(t *testing.T, path string, ready ...string) *served {
	t.Helper()
	pr, pw := io.Pipe()
	s := &served{t: t, lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case s.lines <- sc.Text():
			default: // nobody waits for these lines
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	s.done = make(chan error, 1)
	go func() {
		root := newRootCmd(&bytes.Buffer{}, pw)
		root.SetArgs([]string{"serve", "--config", path})
		s.done <- root.ExecuteContext(ctx)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if s.exited {
			return
		}
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("serve did not stop")
		}
	})
	s.wait(ready...)
	return s
}

// exit waits until serve returns by itself, for at most 5 s, and returns
// its error.
func (s *served) exit() error {
	s.t.Helper()
	s.exited = true
	select {
	case err := <-s.done:
		return err
	case <-time.After(5 * time.Second):
		s.t.Fatal("serve did not return")
		return nil
	}
}

// wait returns the next log line containing every one of parts.
func (s *served) wait(parts ...string) string {
	s.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case line := <-s.lines:
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(line, p)
			}
			if ok {
				return line
			}
		case <-deadline:
			s.t.Fatalf("no log line with %q", parts)
			return ""
		}
	}
}

// edgeConfig writes secrets and a configuration with the credential
// service on a free port, trusting the client of pki dir, and MS-TURN on
// (so MRAS is served), and returns its path and the service URL.
func edgeConfig(t *testing.T, dir string, udpPort, tcpPort int, secrets []auth.Secret, trusted string) (string, string) {
	t.Helper()
	var b strings.Builder
	for _, s := range secrets {
		file := filepath.Join(dir, "secret-"+s.ID)
		if err := os.WriteFile(file, s.Value, 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "    - id: %q\n      secret_file: %s\n", s.ID, file)
	}
	cfg := fmt.Sprintf(`realm: cli.test
listeners:
  - protocol: udp
    address: 127.0.0.1:%d
relay:
  address: 127.0.0.1
  ports: 31100-31199
auth:
  secrets:
%speers:
  allow: [127.0.0.0/8]
credential_service:
  listen: 127.0.0.1:%d
  cert_file: pki/service.crt
  key_file: pki/service.key
  client_ca_file: pki/ca.crt
  trusted_clients: [%s]
  max_ttl: 2h
ms_turn:
  enabled: true
`, udpPort, b.String(), tcpPort, trusted)
	path := filepath.Join(dir, "avedge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, fmt.Sprintf("https://127.0.0.1:%d", tcpPort)
}

// request runs "avedge creds request" with the client of pki dir.
func request(t *testing.T, url, dir string, args ...string) (credsvc.Credential, error) {
	t.Helper()
	f := pki.DevFiles(filepath.Join(dir, "pki"))
	args = append([]string{"creds", "request", "--service", url, "--cert", f.ClientCert, "--key", f.ClientKey, "--ca", f.CACert}, args...)
	out, _, err := run(t, context.Background(), args...)
	var c credsvc.Credential
	if err == nil {
		if err := json.Unmarshal([]byte(out), &c); err != nil {
			t.Fatalf("output is not a credential: %v\n%s", err, out)
		}
	}
	return c, err
}

// TestCredsRequest: "pki dev", then "serve" with the credential service,
// then "creds request", and the credential allocates on the relay.
func TestCredsRequest(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := t.TempDir()
	if _, _, err := run(t, context.Background(), "pki", "dev", "--out", filepath.Join(dir, "pki")); err != nil {
		t.Fatal(err)
	}
	secret := auth.Secret{ID: "k1", Value: []byte(cliSecret)}
	udpPort := freeUDPPort(t)
	path, url := edgeConfig(t, dir, udpPort, freeTCPPort(t), []auth.Secret{secret}, pki.DevClientName)
	serve(t, path, "credential service listening")

	c, err := request(t, url, dir, "--identity", "alice", "--ttl", "30m", "--location", "intranet")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("turn:127.0.0.1:%d?transport=udp", udpPort)
	// The expiry is rounded down to a whole second, and so are the seconds
	// left until it: 1799 unless the request came on a whole second.
	if c.TTL < 1799 || c.TTL > 1800 || c.Realm != "cli.test" || len(c.URIs) != 1 || c.URIs[0] != want || c.Relays[0].Location != credsvc.Intranet {
		t.Fatalf("credential %+v", c)
	}
	if c.Password != auth.RESTPassword(secret.Value, c.Username) {
		t.Error("not signed with the configured secret")
	}
	if c, err := request(t, url, dir, "--identity", "alice", "--ttl", "5h"); err != nil || c.TTL < 7199 || c.TTL > 7200 {
		t.Errorf("ttl above max_ttl: %+v, %v; want 7200 s", c, err)
	}
	allocate(t, udpPort, c)

	// A client of another CA is refused at the handshake.
	other := t.TempDir()
	if _, _, err := run(t, context.Background(), "pki", "dev", "--new-ca", "--out", filepath.Join(other, "pki")); err != nil {
		t.Fatal(err)
	}
	f := pki.DevFiles(filepath.Join(other, "pki"))
	_, _, err = run(t, context.Background(), "creds", "request", "--service", url, "--cert", f.ClientCert, "--key", f.ClientKey,
		"--ca", pki.DevFiles(filepath.Join(dir, "pki")).CACert, "--identity", "alice")
	if err == nil {
		t.Fatal("a client of another CA got a credential")
	}
	// Bad input is refused with the service's reason.
	if _, err := request(t, url, dir, "--identity", "alice", "--location", "moon"); err == nil || !strings.Contains(err.Error(), "400 Bad Request: location") {
		t.Errorf("bad location: %v", err)
	}

	// With --mras, as a Lync front end: base64 of a REST credential, the
	// lifetime cut to max_ttl, in minutes.
	f = pki.DevFiles(filepath.Join(dir, "pki"))
	out, _, err := run(t, context.Background(), "creds", "request", "--service", url, "--cert", f.ClientCert, "--key", f.ClientKey,
		"--ca", f.CACert, "--identity", "sip:alice@example.com", "--mras")
	if err != nil {
		t.Fatal(err)
	}
	var m mras.Credentials
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("output is not an MRAS credential: %v\n%s", err, out)
	}
	user, err1 := base64.StdEncoding.DecodeString(m.Username)
	pass, err2 := base64.StdEncoding.DecodeString(m.Password)
	if err1 != nil || err2 != nil || !strings.HasSuffix(string(user), ":sip:alice@example.com") ||
		string(pass) != auth.RESTPassword(secret.Value, string(user)) || m.Minutes != 120 || len(m.Relays) == 0 {
		t.Errorf("MRAS credential %+v (username %q)", m, user)
	}
}

// allocate allocates a relayed address with credential c.
func allocate(t *testing.T, udpPort int, c credsvc.Credential) {
	t.Helper()
	if err := tryAllocate(t, udpPort, c); err != nil {
		t.Fatalf("allocate: %v", err)
	}
}

// tryAllocate allocates a relay address with c at the edge on udpPort and
// deletes it; an error response to either is an error.
func tryAllocate(t *testing.T, udpPort int, c credsvc.Credential) error {
	t.Helper()
	tc := turnClient(t, udpPort, c.Username, c.Password, c.Realm)
	if _, code := tc.Allocate(); code != 0 {
		return fmt.Errorf("allocate: error code %d", code)
	}
	if code := tc.Refresh(0); code != 0 {
		return fmt.Errorf("delete the allocation: error code %d", code)
	}
	return nil
}

// turnClient returns a TURN client of the edge on 127.0.0.1:udpPort with
// credential user and password for realm (a challenge with another realm
// fails the test).
func turnClient(t *testing.T, udpPort int, user, password, realm string) *turntest.Client {
	t.Helper()
	c := turntest.DialUDP(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(udpPort)), user, password)
	c.Realm = realm
	return c
}

func TestCredsRequestFlags(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"creds", "request"}, `required flag(s) "identity" not set`},
		{[]string{"creds", "request", "--identity", "a", "--service", "https://127.0.0.1:5062"}, "--service, --cert and --key go together"},
		{[]string{"creds", "request", "--identity", "a", "--cert", "c.crt", "--key", "c.key"}, "--service, --cert and --key go together"},
		{[]string{"creds", "request", "--identity", "a"}, "run avedge serve"},
		{[]string{"creds", "request", "--identity", "a", "--service", "https://x", "--cert", "/nonexistent.crt", "--key", "/nonexistent.key"}, "/nonexistent.crt"},
	} {
		wantError(t, tc.args, tc.want)
	}
}

// TestPKIDevClientTrustedByDevelopmentEdge: a client certificate from
// "pki dev --out" is accepted by a service that uses the development edge's
// own PKI (the state directory's), as the development edge does.
func TestPKIDevClientTrustedByDevelopmentEdge(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	out := t.TempDir()
	if _, _, err := run(t, context.Background(), "pki", "dev", "--out", filepath.Join(out, "pki")); err != nil {
		t.Fatal(err)
	}
	// The configuration sits next to the state directory's pki/, so its
	// credential_service uses the development edge's certificates.
	edgeDir := filepath.Join(state, "avedge")
	secret := auth.Secret{ID: "dev", Value: []byte("dev-secret-0123456789abcdef")}
	path, url := edgeConfig(t, edgeDir, freeUDPPort(t), freeTCPPort(t), []auth.Secret{secret}, pki.DevClientName)
	serve(t, path, "credential service listening")
	c, err := request(t, url, out, "--identity", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if c.Password != auth.RESTPassword(secret.Value, c.Username) {
		t.Error("not signed with the edge's secret")
	}
}
