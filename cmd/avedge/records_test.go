package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/edge"
)

// TestServeRecords: with records.output set, an allocation that is still
// live when serve stops is written to the file with end reason "shutdown",
// after the server stopped and before serve returns.
func TestServeRecords(t *testing.T) {
	dir := t.TempDir()
	port := freeUDPPort(t)
	path := cliConfig(t, dir, port, "31100-31199", "records:\n  output: sessions.jsonl\n")
	pr, pw := io.Pipe()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "relaying") {
				close(ready)
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		root := newRootCmd(&bytes.Buffer{}, pw)
		root.SetArgs([]string{"serve", "--config", path})
		done <- root.ExecuteContext(ctx)
		pw.Close()
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not start")
	}

	// Left open: the edge's shutdown ends it.
	c := credsIssue(t, path)
	_, relayed := relayHello(t, port, c)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop")
	}
	b, err := os.ReadFile(filepath.Join(dir, "sessions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		User          string `json:"user"`
		Identity      string `json:"identity"`
		Relayed       string `json:"relayed"`
		Transport     string `json:"transport"`
		EndReason     string `json:"end_reason"`
		ToPeerPackets uint64 `json:"to_peer_packets"`
		ToPeerBytes   uint64 `json:"to_peer_bytes"`
	}
	if strings.Count(string(b), "\n") != 1 || json.Unmarshal(b, &rec) != nil {
		t.Fatalf("records file holds %q, want one JSON line", b)
	}
	if rec.User != c.Username || rec.Identity != "bob" || rec.Relayed != relayed.String() ||
		rec.Transport != "udp" || rec.EndReason != "shutdown" || rec.ToPeerPackets != 1 || rec.ToPeerBytes != uint64(len(helloPeer)) {
		t.Errorf("record %+v from %s", rec, b)
	}
	if strings.Contains(string(b), c.Password) {
		t.Errorf("record holds the password: %s", b)
	}
}

// TestReloadReopensRecords: a reload reopens the session records file
// after log rotation, also when the re-read configuration does not load
// (which changes nothing else).
func TestReloadReopensRecords(t *testing.T) {
	dir := t.TempDir()
	path := cliConfig(t, dir, freeUDPPort(t), "31600-31699", "records:\n  output: sessions.jsonl\n")
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := edge.Build(cfg, edge.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	records := filepath.Join(dir, "sessions.jsonl")
	if err := os.Rename(records, records+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("realm: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	reload(e, path, config.Detected{}, slog.New(slog.NewTextHandler(&logs, nil)))
	if !strings.Contains(logs.String(), "reload failed") {
		t.Errorf("a configuration that does not load: logged %q, want a failed reload", logs.String())
	}
	if _, err := os.Stat(records); err != nil {
		t.Errorf("the records file was not reopened: %v", err)
	}
}
