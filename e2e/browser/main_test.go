package browser

import (
	"testing"

	"github.com/avedge/avedge/e2e/internal/pebble"
)

// TestMain runs the tests, then removes the Pebble binaries they built.
func TestMain(m *testing.M) { pebble.Main(m) }
