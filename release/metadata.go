package main

// What packages and the image say about avedge.
const (
	// productName names the packages and the image.
	productName = "avedge"
	// summary is the one-line description.
	summary = "A/V edge: STUN/TURN media relay and credential service"
	// description is the packages' long description.
	description = "avedge is a STUN/TURN media relay (RFC 8489, RFC 8656) for WebRTC and SIP media, with\n" +
		"TURN over UDP, TCP and TLS on one port, ephemeral (TURN REST API) credentials, an mTLS\n" +
		"credential service, pools, draining restarts and Prometheus metrics."
	// homepage is the project's home.
	homepage = "https://github.com/avedge/avedge"
	// maintainer is who answers for the packages.
	maintainer = "avedge maintainers <maintainers@avedge.invalid>"
	// license is an SPDX expression. The repository has no LICENSE file
	// yet: this is a placeholder until it does.
	license = "Apache-2.0"
	// vendor is who publishes the packages.
	vendor = "avedge"
)
