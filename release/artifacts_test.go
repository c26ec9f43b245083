package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// testVersion is the version the tests build with.
const testVersion = "0.0.0-test.1"

// built holds the artifacts scripts/release wrote for the host's
// architecture, built once for all tests that need them.
var built struct {
	once sync.Once
	dir  string
	out  string
	err  error
}

// artifacts runs scripts/release --only deb,rpm,oci --arch GOARCH once and
// returns its output directory.
func artifacts(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "avedge-release-test-")
		if built.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", filepath.Join("..", "scripts", "release"),
			"--only", "deb,rpm,oci", "--arch", runtime.GOARCH, "--version", testVersion, "--out", built.dir)
		var out []byte
		out, built.err = cmd.CombinedOutput()
		built.out = string(out)
	})
	if built.err != nil {
		t.Fatalf("scripts/release: %v\n%s", built.err, built.out)
	}
	return built.dir
}

// TestMain removes the artifacts after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// artifact returns the one file of dir whose name ends with suffix.
func artifact(t *testing.T, dir, suffix string) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if err != nil || len(matches) != 1 {
		t.Fatalf("want one *%s in %s, found %v (%v)", suffix, dir, matches, err)
	}
	return matches[0]
}

// tool returns the path of the command name, or skips the test (fails it
// when CI is "true": scripts/install-test-deps installs it from the Debian
// package pkg).
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (Debian package %s) is needed: run scripts/install-test-deps", name, pkg)
		}
		t.Skipf("%s (Debian package %s) is not installed", name, pkg)
	}
	return path
}

// needRoot skips the test unless it runs as root (fails it when CI is
// "true").
func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI runs as root: %s needs it", why)
		}
		t.Skipf("not root: %s needs it", why)
	}
}

// command runs name with args (bounded in time) and returns its standard
// output; it fails the test on an error, with the standard error.
func command(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := tryCommand(t, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return out
}

// tryCommand runs name with args (bounded in time) and returns its
// standard output, and an error that holds its standard error.
func tryCommand(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), &commandError{err: err, stderr: stderr.String()}
	}
	return stdout.String(), nil
}

// commandError is a failed command with its standard error.
type commandError struct {
	err    error
	stderr string
}

func (e *commandError) Error() string { return e.err.Error() + "\n" + e.stderr }

func (e *commandError) Unwrap() error { return e.err }

// mustContain fails the test for each of wants that text lacks.
func mustContain(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, text)
		}
	}
}

// startsNothing fails the test when a command (not a comment) of the
// scripts enables or starts a unit.
func startsNothing(t *testing.T, what, scripts string) {
	t.Helper()
	for line := range strings.Lines(scripts) {
		code, _, _ := strings.Cut(line, "#")
		for _, verb := range []string{"systemctl enable", "systemctl start", "systemctl restart", "systemctl preset", "deb-systemd-invoke"} {
			if strings.Contains(code, verb) {
				t.Errorf("%s: %q starts or enables the unit", what, strings.TrimSpace(line))
			}
		}
	}
}
