package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/server"
)

// adminEdge runs a relay of a configuration with the admin endpoints on a
// free loopback port until the test ends and returns the configuration's
// path, the relay's UDP port, the admin base URL and the admin stop
// function.
func adminEdge(t *testing.T) (string, int, string, func()) {
	t.Helper()
	udpPort, adminPort := freeUDPPort(t), freeTCPPort(t)
	path := cliConfig(t, t.TempDir(), udpPort, "31200-31299", fmt.Sprintf("admin:\n  listen: 127.0.0.1:%d\n", adminPort))
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	opts, err := server.FromConfig(cfg, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	adm, err := startAdmin(cfg, srv, srv.Drain, log)
	if err != nil {
		cancel()
		<-done
		t.Fatal(err)
	}
	adm.SetReady(true)
	stop := adm.Stop
	t.Cleanup(func() {
		cancel()
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return path, udpPort, fmt.Sprintf("http://127.0.0.1:%d", adminPort), stop
}

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

	relay := relayHello(t, udpPort, credsIssue(t, path))
	defer relay.Close()

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
		{`avedge_allocations{dialect="rfc",family="ipv4",relay="udp",transport="udp"}`, 1},
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

// TestAdminOff checks that without an admin section nothing listens and
// stop is safe to call.
func TestAdminOff(t *testing.T) {
	adm, err := startAdmin(&config.Config{}, nil, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	adm.SetReady(true)
	adm.Stop()
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
