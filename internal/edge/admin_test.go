package edge

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/avedge/avedge/internal/metrics"
)

// TestAdminOff checks that without an admin section nothing listens (no
// server, no "listening" line) and that the endpoints' methods are safe
// to call.
func TestAdminOff(t *testing.T) {
	var logs bytes.Buffer
	adm, err := startAdmin(nil, metrics.Options{}, nil, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if adm.srv != nil || logs.Len() != 0 {
		t.Fatalf("admin endpoints started without an admin section (logged %q)", logs.String())
	}
	adm.SetReady(true)
	adm.Stop()
}
