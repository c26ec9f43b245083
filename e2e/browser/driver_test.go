package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// chromiumPath is Debian's Chromium.
	chromiumPath = "/usr/bin/chromium"
	// playwrightPackage proves that npm ci ran in this directory.
	playwrightPackage = "node_modules/playwright-core/package.json"
	// driverTimeout bounds one run of driver.mjs: Chromium's start, the
	// page's own bounded waits (at most ~30 s) and Chromium's exit.
	driverTimeout = 45 * time.Second
)

// requireBrowser skips the test when Chromium, Node or playwright-core is
// missing, or fails it when the CI environment variable is "true".
func requireBrowser(t *testing.T) {
	t.Helper()
	var missing []string
	if _, err := os.Stat(chromiumPath); err != nil {
		missing = append(missing, chromiumPath)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(playwrightPackage); err != nil {
		missing = append(missing, "e2e/browser/"+playwrightPackage)
	}
	needAll(t, "browser tests", missing)
}

// needAll skips the test (fails it when CI is "true") when missing names
// what the tests of what lack.
func needAll(t *testing.T, what string, missing []string) {
	t.Helper()
	if len(missing) == 0 {
		return
	}
	msg := what + " need " + strings.Join(missing, ", ") + ": run scripts/install-test-deps"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// runDriver runs `node driver.mjs page scenario` with Chromium's extra
// switches chromiumArgs and returns the page's result.
func runDriver(t *testing.T, page, scenario string, chromiumArgs ...string) pageResult {
	t.Helper()
	return runDriverFor(t, driverTimeout, page, scenario, chromiumArgs...)
}

// runDriverFor is runDriver with the run bounded by timeout rather than
// driverTimeout, for scenarios that take longer.
func runDriverFor(t *testing.T, timeout time.Duration, page, scenario string, chromiumArgs ...string) pageResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "driver.mjs", page, scenario)
	// On timeout, kill Node and the Chromium it started: they share a new
	// process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"AVEDGE_USER_DATA_DIR="+t.TempDir(),
		"AVEDGE_CHROMIUM_ARGS="+strings.Join(chromiumArgs, "\n"),
		// Chromium writes its NSS database and caches under HOME: keep
		// them out of the user's.
		"HOME="+home,
		"XDG_CONFIG_HOME="+home,
		"XDG_CACHE_HOME="+home,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// WaitDelay bounds the wait for pipes a stray child may hold.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if stderr.Len() > 0 {
		t.Logf("driver stderr:\n%s", stderr.Bytes())
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("driver: no result within %v", timeout)
	}
	if err != nil {
		t.Fatalf("driver: %v", err)
	}
	var res pageResult
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		t.Fatalf("driver output %q: %v", stdout.Bytes(), err)
	}
	t.Logf("page result: %s", bytes.TrimSpace(stdout.Bytes()))
	return res
}
