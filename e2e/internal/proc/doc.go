// Package proc runs the child processes of the e2e module's tests (the
// avedge binary, HAProxy, Pebble): each is killed when its test ends, and
// its output, kept in memory, goes to the test's log if the test failed.
package proc
