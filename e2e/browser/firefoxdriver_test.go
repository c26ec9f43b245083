package browser

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/edgetest"
)

const (
	// firefoxPath is Debian's Firefox ESR (package firefox-esr).
	firefoxPath = "/usr/bin/firefox-esr"
	// puppeteerPackage proves that npm ci ran in this directory.
	puppeteerPackage = "node_modules/puppeteer-core/package.json"
	// firefoxStartTimeout bounds Firefox's start and exit: on two busy
	// cores a headless Firefox ESR takes 10-25 s to answer WebDriver BiDi.
	firefoxStartTimeout = 50 * time.Second
	// firefoxPageTimeout bounds one page's run: its own bounded waits
	// (at most ~30 s) and the tab's opening and closing.
	firefoxPageTimeout = 35 * time.Second
)

// requireFirefox skips the test when Firefox ESR, Node, puppeteer-core or
// NSS's certutil is missing, or fails it when the CI environment variable
// is "true".
func requireFirefox(t *testing.T) {
	t.Helper()
	var missing []string
	if _, err := os.Stat(firefoxPath); err != nil {
		missing = append(missing, firefoxPath+" (firefox-esr)")
	}
	for _, cmd := range []string{"node", "certutil"} {
		if _, err := exec.LookPath(cmd); err != nil {
			missing = append(missing, cmd)
		}
	}
	if _, err := os.Stat(puppeteerPackage); err != nil {
		missing = append(missing, "e2e/browser/"+puppeteerPackage)
	}
	needAll(t, "Firefox tests", missing)
}

// firefoxProfile makes a fresh Firefox profile directory whose certificate
// database trusts the CA of each edge for TLS servers.
//
// Firefox verifies the certificate of a turns: relay as it verifies a web
// site's: a certificate from a CA it does not trust fails the handshake
// and no relay candidate is gathered. Firefox has no switch like
// Chromium's SPKI pin list; a certificate override (cert_override.txt)
// is keyed by host and port and written in a format Firefox keeps to
// itself, and enterprise policies (policies.json) are read from the
// installation directory, machine-wide. What a deployment with a private CA
// does, importing the CA into the profile's NSS database (cert9.db) with
// certutil, is per profile and stable: the CA is trusted for TLS servers
// only ("C,,") in this test's profile.
func firefoxProfile(t *testing.T, edges ...*edgetest.Edge) string {
	t.Helper()
	dir := t.TempDir()
	certutil := func(args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "certutil", append([]string{"-d", "sql:" + dir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("certutil %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	certutil("-N", "--empty-password")
	for i, e := range edges {
		certutil("-A", "-n", fmt.Sprintf("avedge-edgetest-%d", i), "-t", "C,,", "-i", e.CAFile)
	}
	return dir
}

// runFirefox runs `node firefox.mjs scenario pages...` with the profile
// directory profile and returns the pages' results in order. One Firefox
// serves all the pages, one tab each, one after the other.
func runFirefox(t *testing.T, profile, scenario string, pages ...string) []pageResult {
	t.Helper()
	timeout := firefoxStartTimeout + time.Duration(len(pages))*firefoxPageTimeout
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{"firefox.mjs", scenario}, pages...)...)
	// On timeout, kill Node and the Firefox processes it started: they
	// share a new process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"AVEDGE_PROFILE_DIR="+profile,
		// Firefox keeps caches and crash reports under HOME: keep them
		// out of the user's.
		"HOME="+home,
		"XDG_CONFIG_HOME="+home,
		"XDG_CACHE_HOME="+home,
		"MOZ_CRASHREPORTER_DISABLE=1",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// WaitDelay bounds the wait for pipes a stray child may hold.
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	t.Logf("firefox driver ran %v for %d pages", time.Since(start).Round(time.Millisecond), len(pages))
	if stderr.Len() > 0 {
		t.Logf("firefox driver stderr:\n%s", stderr.Bytes())
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("firefox driver: no result within %v", timeout)
	}
	if err != nil {
		t.Fatalf("firefox driver: %v", err)
	}
	var results []pageResult
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var res pageResult
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			t.Fatalf("firefox driver output line %q: %v", sc.Bytes(), err)
		}
		t.Logf("page result: %s", sc.Bytes())
		results = append(results, res)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("firefox driver output: %v", err)
	}
	if len(results) != len(pages) {
		t.Fatalf("firefox driver printed %d results for %d pages", len(results), len(pages))
	}
	return results
}
