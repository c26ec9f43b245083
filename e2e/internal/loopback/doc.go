// Package loopback holds the port helpers of the e2e module's tests that
// run servers on 127.0.0.1: a port that was free a moment ago, and a wait
// for a port that starts accepting connections.
package loopback
