// Package credsvc is avedge's credential service, the "A/V authentication
// service" of an edge: trusted servers (call controllers, web applications,
// SFUs) ask it over mutually authenticated TLS for short-lived relay
// credentials on behalf of their clients, and hand them over their own
// signalling.
//
// Handler is a plain http.Handler: it checks the verified client
// certificate's name against the trusted list (403), limits the request
// rate of each client name (429) and answers
//
//	POST /v1/credentials            {"identity","location","ttl"} → Credential
//	GET  /v1/turn-credentials?username=…&ttl=…  → RESTCredential (the TURN REST API shape)
//
// with credentials signed by the newest secret of an auth.Keyring, the one
// the relay checks against. Server runs it on a TLS 1.2+ listener that
// requires a client certificate chaining to the configured client CAs, and
// verifies that certificate again on every request against the current
// CAs, so that a reload cuts off kept-alive connections of a removed CA;
// connections (in all and per source IP), header sizes and timeouts are
// bounded. Client is its client.
//
// The same port can answer a Dialect beside HTTP, told apart by the first
// bytes a connection sends after the handshake, under the same client
// certificate, trust and rate rules: the mras sub-package is MRAS, the
// Media Relay Authentication Service of [MS-AVEDGEA] that Lync and Skype
// for Business servers ask, switched on by ServerOptions.MRAS. The
// credential service never imports it: the caller wires them.
//
// Every refusal is logged with its reason and the peer address, at most
// once a minute per peer IP (further refusals are counted); key material,
// passwords and secrets never are. Time comes from an injected
// clock.Clock, also for certificate validity.
package credsvc
