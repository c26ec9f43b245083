// Package browser holds avedge's browser end-to-end tests: headless
// Chromium (Debian's chromium package, driven by playwright-core from Node)
// connects two RTCPeerConnections with iceTransportPolicy "relay" through an
// edge that internal/edgetest runs on loopback, over turn: UDP, turn: TCP and
// turns: TLS, exchanging data-channel messages and fake-device audio and
// video, and the tests check from getStats() and from the edge's own
// counters that the media went through the relay. A longer call keeps a
// data channel pinging for 150 s on a 40 s credential through an edge whose
// allocations live 60 s: it outlives its credential, or fails after the
// expiry with auth.strict_expiry.
//
// The Go test is the web application: it serves the page (testdata/) and
// /ice, which asks the credential service for a credential over mutual TLS
// and hands the browser an RTCIceServer; the browser never sees the client
// certificate. driver.mjs launches Chromium and prints the page's result as
// one JSON line.
//
// Two tests run the shipped avedge binary instead, with a static user and
// a page application that hands out that user (serveICE), and call over
// turns: only: TestChromiumACME to an edge whose TLS listener got its
// certificate from Pebble (e2e/internal/pebble) by TLS-ALPN-01, and
// TestChromiumHAProxy through HAProxy (e2e/internal/haproxy) routing by
// SNI and sending the PROXY protocol v2, whose session records must name
// the browser's address. Chromium resolves their turns: names to 127.0.0.1
// (--host-resolver-rules); their relay ports are 39700-39827.
//
// The tests need /usr/bin/chromium and node_modules/playwright-core
// (scripts/install-test-deps installs both); without them they skip, or fail
// when the CI environment variable is "true".
//
// TestFirefoxRelay does the same with data-channel messages in headless
// Firefox ESR (Debian's firefox-esr, driven by puppeteer-core over WebDriver
// BiDi from firefox.mjs), one Firefox for its pages, each with its own edge
// (relay ports 38000-38255): the profile trusts the edges' CAs in its NSS
// database (certutil) and lets Firefox gather on loopback. It needs
// /usr/bin/firefox-esr, certutil and node_modules/puppeteer-core.
package browser
