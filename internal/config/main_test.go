package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMain(m *testing.M) {
	// Git keeps no file modes but the executable bit: give the test keys
	// and the admin token the mode avedge expects of them, so that the
	// goldens do not depend on the umask of the checkout.
	keys, _ := filepath.Glob(filepath.Join("testdata", "pki", "*.key"))
	for _, k := range append(keys, filepath.Join("testdata", "admin.token")) {
		_ = os.Chmod(k, 0o600)
	}
	os.Exit(m.Run())
}
