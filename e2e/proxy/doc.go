// Package proxy runs avedge behind HAProxy (Debian's package, as a
// foreground child process on loopback) sharing one TLS port with a web
// application by SNI, with the PROXY protocol v2 on the way to the edge:
// the web name reaches the web server, a pion/turn client over TLS through
// HAProxy allocates and relays, and the edge's session list and records
// show the client's own address, not HAProxy's; a forged PROXY header sent
// straight to the edge from an address it does not trust is refused and
// counted in /metrics.
//
// It holds tests only; relay ports 39600-39663 are its own. The tests skip
// without haproxy on PATH (scripts/install-test-deps installs it) and fail
// then when CI=true.
package proxy
