package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMain(m *testing.M) {
	// Git keeps no file modes but the executable bit: give the test keys,
	// the admin token, the webhook token and the users files the mode avedge expects of them,
	// so that the goldens do not depend on the umask of the checkout.
	keys, _ := filepath.Glob(filepath.Join("testdata", "pki", "*.key"))
	users, _ := filepath.Glob(filepath.Join("testdata", "users*.txt"))
	for _, k := range append(append(keys, users...), filepath.Join("testdata", "admin.token"), filepath.Join("testdata", "webhook.token")) {
		_ = os.Chmod(k, 0o600)
	}
	os.Exit(m.Run())
}
