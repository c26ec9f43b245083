//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
)

// drainConfig writes a configuration with the admin endpoints and a
// sibling edge, and returns its path, UDP port and admin base URL.
func drainConfig(t *testing.T) (string, int, string) {
	t.Helper()
	udpPort, adminPort := freeUDPPort(t), freeTCPPort(t)
	dir := t.TempDir()
	path := cliConfig(t, dir, udpPort, "31300-31399", adminSection(t, dir, adminPort)+`drain:
  timeout: 1m
  alternate_servers: ["127.0.0.9:3478"]
`)
	return path, udpPort, fmt.Sprintf("http://127.0.0.1:%d", adminPort)
}

// issue signs a credential for user with the secret of drainConfig.
func issue(t *testing.T, user string) (string, string) {
	t.Helper()
	u, p, err := auth.Issue(auth.Secret{ID: "k1", Value: []byte(cliSecret)}, user, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return u, p
}

// TestServeDrainOnSIGTERM: SIGTERM turns /readyz not ready while the
// admin listener stays up, refuses new allocations, keeps the live one
// relaying, and serve returns once it is deleted.
func TestServeDrainOnSIGTERM(t *testing.T) {
	path, udpPort, base := drainConfig(t)
	s := serve(t, path, "serving")
	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz while serving: %d, want 200", code)
	}
	u, p := issue(t, "alice")
	relay := turnClient(t, udpPort, u, p, "cli.test")
	if _, code := relay.Allocate(); code != 0 {
		t.Fatalf("allocate: error code %d", code)
	}
	peer, err := net.ListenPacket("udp4", "127.0.0.2:0") // 127.0.0.1 is the edge's own: no hairpin
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.wait("draining: new allocations are refused", "alternate_servers=[127.0.0.9:3478]")
	if code, body := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz while draining: %d %q, want 503", code, body)
	}
	if _, code := turnClient(t, udpPort, u, p, "cli.test").Allocate(); code == 0 {
		t.Fatal("a new allocation succeeded while draining")
	}
	if code := relay.SendTo(netip.MustParseAddrPort(peer.LocalAddr().String()), []byte("still relayed")); code != 0 {
		t.Fatalf("CreatePermission: error code %d", code)
	}
	buf := make([]byte, 1500)
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := peer.ReadFrom(buf); err != nil || string(buf[:n]) != "still relayed" {
		t.Fatalf("peer got %q, %v while draining", buf[:n], err)
	}
	relay.Refresh(0) // the last allocation ends
	s.wait("drained")
	s.wait("stopped")
	if conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://")); err == nil {
		conn.Close()
		t.Fatal("admin listener still up after serve returned")
	}
}

// TestServeStopWhileDraining: a second SIGTERM during a drain stops at
// once.
func TestServeStopWhileDraining(t *testing.T) {
	path, udpPort, _ := drainConfig(t)
	s := serve(t, path, "serving")
	u, p := issue(t, "alice")
	if _, code := turnClient(t, udpPort, u, p, "cli.test").Allocate(); code != 0 {
		t.Fatalf("allocate: error code %d", code)
	}
	for _, want := range []string{"draining: new allocations are refused", "stopping at once"} {
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		s.wait(want)
	}
	s.wait("stopped")
}

// TestServeUntilDoneSIGINT: SIGINT stops at once, without a drain.
func TestServeUntilDoneSIGINT(t *testing.T) {
	path, _, base := drainConfig(t)
	s := serve(t, path, "serving")
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	line := s.wait("stopping at once")
	if !strings.Contains(line, "signal=interrupt") {
		t.Fatalf("log line %q, want signal=interrupt", line)
	}
	s.wait("stopped")
	if _, err := http.Get(base + "/readyz"); err == nil {
		t.Fatal("admin listener still up after serve returned")
	}
}

// TestDrainCommand: "avedge drain" posts /drain with the token and prints
// the answer; /readyz turns not ready; a bad URL, a wrong token or an
// endpoint that refuses fails, the token refusal saying so.
func TestDrainCommand(t *testing.T) {
	path, _, base, _ := adminEdge(t)
	token := filepath.Join(filepath.Dir(path), "admin.token")
	wrong := filepath.Join(t.TempDir(), "wrong.token")
	if err := os.WriteFile(wrong, []byte("wrong-admin-token-0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, context.Background(), "drain", "--admin", base, "--token-file", wrong)
	if !errors.Is(err, errDrainRefused) || !errors.Is(err, errAdminToken) || !strings.Contains(err.Error(), "use the content of the edge's admin.token_file") {
		t.Fatalf("drain with a wrong token: %v, want %v", err, errAdminToken)
	}
	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz after a refused drain: %d, want 200", code)
	}
	out, _, err := run(t, context.Background(), "drain", "--admin", base, "--token-file", token)
	if err != nil || out != "draining\n" {
		t.Fatalf("drain: %q, %v", out, err)
	}
	if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz after drain: %d, want 503", code)
	}
	for _, tc := range []struct {
		url  string
		want error
		msg  string
	}{
		{base + "/elsewhere", errDrainRefused, "404 Not Found"},
		{strings.Replace(base, "127.0.0.1", "localhost", 1) + "/", nil, "draining"},
		{"127.0.0.1:9090", nil, "expected a URL"},
		{"ftp://127.0.0.1:9090", nil, "expected a URL"},
	} {
		out, _, err := run(t, context.Background(), "drain", "--admin", tc.url, "--token-file", token)
		if tc.msg == "draining" {
			if err != nil || out != "draining\n" {
				t.Errorf("drain --admin %s: %q, %v", tc.url, out, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.msg) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("drain --admin %s: %v, want an error with %q", tc.url, err, tc.msg)
		}
	}
	wantError(t, []string{"drain"}, `at least one of the flags in the group [admin config] is required`)
	wantError(t, []string{"drain", "--admin", base}, `if any flags in the group [admin token-file] are set they must all be set; missing [token-file]`)
	wantError(t, []string{"drain", "--admin", base, "--token-file", token, "--config", "x.yaml"}, "none of the others can be")
}

// TestDrainWaitLimit: --wait gives up after --wait-limit when the admin
// endpoint stays up (an edge whose drain does not end).
func TestDrainWaitLimit(t *testing.T) {
	stays := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintln(w, "draining")
	}))
	defer stays.Close()
	token := filepath.Join(t.TempDir(), "admin.token")
	if err := os.WriteFile(token, []byte(cliToken), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, context.Background(), "drain", "--admin", stays.URL, "--token-file", token, "--wait", "--wait-limit", "1s")
	if !errors.Is(err, errDrainWait) || out != "draining\n" {
		t.Errorf("drain --wait of an edge that stays up: %q, %v, want %v", out, err, errDrainWait)
	}
}

// TestDrainConfigWait: "avedge drain --config FILE --wait" finds the admin
// endpoint and its token in the configuration, drains an edge without
// allocations, and returns once it has exited, which the edge does with
// exit status 75, not 0 as after a SIGTERM, so that its service manager
// starts it again.
func TestDrainConfigWait(t *testing.T) {
	path, _, base := drainConfig(t)
	s := serve(t, path, "serving")
	out, _, err := run(t, context.Background(), "drain", "--config", path, "--wait")
	if err != nil || out != "draining\nexited\n" {
		t.Fatalf("drain --config --wait: %q, %v", out, err)
	}
	s.wait("stopped: drained on request of the admin endpoint; exit status 75")
	if err := s.exit(); !errors.Is(err, errDrainRequested) || exitCode(err) != 75 {
		t.Fatalf("serve after a drain requested on the admin endpoint: %v (exit status %d), want exit status 75", err, exitCode(err))
	}
	if conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://")); err == nil {
		conn.Close()
		t.Fatal("admin listener up after drain --wait returned")
	}
	noAdmin := filepath.Join(t.TempDir(), "edge.yaml")
	data, _ := os.ReadFile(path)
	data = []byte(strings.Split(string(data), "admin:")[0])
	if err := os.WriteFile(noAdmin, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, context.Background(), "drain", "--config", noAdmin); !errors.Is(err, errNoAdmin) {
		t.Errorf("drain --config without admin: %v, want %v", err, errNoAdmin)
	}
}

// TestServeSIGTERMAfterRequestedDrain: a SIGTERM during a drain requested
// on the admin endpoint (a service manager stopping the edge) makes the
// exit status 0: the edge is to stay stopped.
func TestServeSIGTERMAfterRequestedDrain(t *testing.T) {
	path, udpPort, _ := drainConfig(t)
	s := serve(t, path, "serving")
	u, p := issue(t, "alice")
	relay := turnClient(t, udpPort, u, p, "cli.test")
	if _, code := relay.Allocate(); code != 0 {
		t.Fatalf("allocate: error code %d", code)
	}
	if out, _, err := run(t, context.Background(), "drain", "--config", path); err != nil || out != "draining\n" {
		t.Fatalf("drain --config: %q, %v", out, err)
	}
	s.wait("drain requested on the admin endpoint")
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.wait("SIGTERM: draining")
	relay.Refresh(0) // the last allocation ends
	if err := s.exit(); err != nil {
		t.Fatalf("serve after a requested drain and a SIGTERM: %v, want exit status 0", err)
	}
}
