package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/avedge/avedge/internal/config"
)

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
