// Package pebble runs Pebble, Let's Encrypt's test CA
// (github.com/letsencrypt/pebble), for the e2e module's tests: built from
// the module's tool dependencies, on loopback, with pebble-challtestsrv as
// its DNS server answering 127.0.0.1 for every name. It fetches Pebble's
// issuing root, against which a test verifies what an edge serves.
package pebble
