package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/edge"
)

// cliToken is the admin token of the tests' configurations.
const cliToken = "cli-test-admin-token-0123456789"

// adminSection writes the admin token cliToken to dir/admin.token and
// returns an admin section listening on 127.0.0.1:port with that token
// file, relative to a configuration in dir.
func adminSection(t *testing.T, dir string, port int) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "admin.token"), []byte(cliToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("admin:\n  listen: 127.0.0.1:%d\n  token_file: admin.token\n", port)
}

// adminEdge runs the edge of a configuration with the admin endpoints on
// a free loopback port until the test ends and returns the configuration's
// path, the relay's UDP port, the admin base URL and a function that stops
// the edge, admin endpoints included. The admin endpoints answer until
// then, also once the relay has drained.
func adminEdge(t *testing.T) (string, int, string, func()) {
	t.Helper()
	udpPort, adminPort := freeUDPPort(t), freeTCPPort(t)
	dir := t.TempDir()
	path := cliConfig(t, dir, udpPort, "31200-31299", adminSection(t, dir, adminPort))
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	serving := make(chan struct{})
	log := slog.New(&onMessage{msg: "serving", do: sync.OnceFunc(func() { close(serving) })})
	e, err := edge.Build(cfg, edge.Deps{Logger: log, Version: buildVersion()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var runErr error
	go func() {
		runErr = e.Run(ctx)
		close(done)
	}()
	stop := sync.OnceFunc(func() {
		cancel()
		<-done
		if runErr != nil {
			t.Errorf("Run: %v", runErr)
		}
		e.Close()
	})
	t.Cleanup(stop)
	select {
	case <-serving:
	case <-done:
		t.Fatalf("Run returned before serving: %v", runErr)
	}
	return path, udpPort, fmt.Sprintf("http://127.0.0.1:%d", adminPort), stop
}

// onMessage is a slog.Handler that calls do for each record with message
// msg and discards the records.
type onMessage struct {
	msg string
	do  func()
}

func (h *onMessage) Enabled(context.Context, slog.Level) bool { return true }

func (h *onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.do()
	}
	return nil
}

func (h *onMessage) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h *onMessage) WithGroup(string) slog.Handler { return h }

// get returns the status and body of GET url.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// sample returns the value of the series (name with its labels, as
// exposed) in the text exposition, or -1 when absent.
func sample(text, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// TestAdminMetrics relays one packet through an edge with the admin
// endpoints and reads the counters back from /metrics.
func TestAdminMetrics(t *testing.T) {
	path, udpPort, base, _ := adminEdge(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, _ := get(t, base+p); code != http.StatusOK {
			t.Fatalf("%s: %d, want 200", p, code)
		}
	}

	relay, _ := relayHello(t, udpPort, credsIssue(t, path))
	defer relay.Refresh(0)

	// A worker publishes its counts before it sends what it queued, so
	// the packet the peer got is counted by now.
	code, text := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, tc := range []struct {
		series string
		min    float64
	}{
		{`avedge_allocations{dialect="rfc",family="ipv4",relay="udp",tenant="default",transport="udp"}`, 1},
		{`avedge_stun_requests_total`, 2}, // Allocate twice: the 401 challenge, then the answer
		{`avedge_relayed_packets_total{direction="to_peer"}`, 1},
		{`avedge_relayed_bytes_total{direction="to_peer"}`, float64(len(helloPeer))},
		{`avedge_relayed_packets_total{direction="to_client"}`, 0},
		{`avedge_socket_packets_total{direction="rx"}`, 3},
		{`avedge_dropped_packets_total{reason="malformed"}`, 0},
		{`avedge_build_info{version="` + buildVersion() + `"}`, 1},
		{`go_goroutines`, 1},
	} {
		if v := sample(text, tc.series); v < tc.min {
			t.Errorf("%s = %v, want at least %v", tc.series, v, tc.min)
		}
	}
}

// TestAdminStops checks that stop closes the admin listener, and that a
// second stop does nothing.
func TestAdminStops(t *testing.T) {
	_, _, base, stop := adminEdge(t)
	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz: %d, want 200", code)
	}
	stop()
	if conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://")); err == nil {
		conn.Close()
		t.Fatal("admin listener still accepts after stop")
	}
}
