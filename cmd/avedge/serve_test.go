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

// TestLogStartSaysDevelopmentMSTurn: the development edge serves MS-TURN
// and says so when it starts; an edge from a configuration file that does
// not ask for it serves no MS-TURN and says nothing of it.
func TestLogStartSaysDevelopmentMSTurn(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dev, err := config.Development(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	prod, err := config.Parse("edge.yaml", t.TempDir(), []byte(`realm: example.com
listeners:
  - {protocol: udp, address: 127.0.0.1:3478}
relay: {address: 203.0.113.10}
auth:
  secrets: [{id: a, secret: "0123456789abcdef0123456789abcdef"}]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cfg  *config.Config
		want bool
	}{{dev, true}, {prod, false}} {
		var b bytes.Buffer
		logStart(slog.New(slog.NewTextHandler(&b, nil)), tc.cfg, "edge.yaml")
		if got := strings.Contains(b.String(), "development edge: MS-TURN is on"); got != tc.want {
			t.Errorf("%s: start log mentions MS-TURN: %v, want %v\n%s", tc.cfg.Source, got, tc.want, b.String())
		}
		if tc.cfg.MSTurn.Enabled != tc.want {
			t.Errorf("%s: ms_turn.enabled = %v, want %v", tc.cfg.Source, tc.cfg.MSTurn.Enabled, tc.want)
		}
	}
}
