// Package haproxy runs HAProxy (Debian's package) for the e2e module's
// tests: in the foreground (-db) as a child process with a configuration
// the test writes, never the system service. A test without haproxy
// installed skips, or fails when the CI environment variable is "true"
// (scripts/install-test-deps installs it).
package haproxy
