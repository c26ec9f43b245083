package libnice

import (
	"os"
	"testing"
)

// TestMain removes the directory of the compiled program after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if program.dir != "" {
		_ = os.RemoveAll(program.dir)
	}
	os.Exit(code)
}
