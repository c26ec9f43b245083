// Package detect finds, once when the edge starts, the relay addresses that
// the configuration sets to "auto" (relay.address, relay.address_v6,
// relay.advertised): the host's own address from its interface addresses,
// and the public address of a 1:1 NAT in front of it from STUN servers
// (relay.detect_with: a Binding request sent from the relay address) or,
// without any, from the cloud's metadata service (AWS IMDSv2, GCP, Azure),
// asked without a proxy and with short time-outs. Resolve turns a
// configuration with auto keys into one with concrete addresses, logging
// each with where it came from; everything it does is bounded by
// relay.detect_timeout.
package detect
