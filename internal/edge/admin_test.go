package edge

import (
	"log/slog"
	"testing"

	"github.com/avedge/avedge/internal/metrics"
)

// TestAdminOff checks that without an admin section nothing listens and
// stop is safe to call.
func TestAdminOff(t *testing.T) {
	adm, err := startAdmin(nil, metrics.Options{}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	adm.SetReady(true)
	adm.Stop()
}
