package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/avedge/avedge/internal/config"
)

// TestLogStartDevelopment: the start log of the development edge names
// the admin token's file, which exists, and how to use it.
func TestLogStartDevelopment(t *testing.T) {
	state := t.TempDir()
	cfg, err := config.Development(state)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logStart(slog.New(slog.NewTextHandler(&logs, nil)), cfg, "")
	token := filepath.Join(state, "admin.token")
	if _, err := os.Stat(token); err != nil {
		t.Fatal(err)
	}
	want := "sessions list --admin http://127.0.0.1:9478 --token-file " + token
	if !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), "admin_token_file="+token) {
		t.Errorf("start log lacks %q and the token file:\n%s", want, logs.String())
	}
	if strings.Contains(logs.String(), string(cfg.Admin.Token)) {
		t.Errorf("the start log shows the token:\n%s", logs.String())
	}
}
