// Package netnstest builds network-namespace topologies for tests that run
// real binaries on real (virtual) interfaces: a handle (New) creates
// namespaces by name, joins them with veth pairs (Link), runs short commands
// (Exec) and long-running processes (Start) inside them, sets sysctls, and
// removes everything when the test ends. It also builds the main packages
// of the module (Build) for the processes to run.
//
// It needs root and iproute2 (ip); without them New skips the test, or
// fails it when the CI environment variable is "true". Namespaces are named
// PREFIX-PID-RANDOM-NAME, so that several tests and test processes can run
// at once; New first removes the namespaces with the same prefix whose test
// process no longer runs (one that crashed before its cleanup).
//
// Methods that fail the test use the testing.TB given to New; inside a
// subtest, call them on n.For(t), which also ties processes started there
// to the subtest.
package netnstest
