// Package mras is the Microsoft [MS-AVEDGEA] surface of the credential
// service: MRAS, the Media Relay Authentication Service that Lync and
// Skype for Business servers ask for relay credentials, beside the
// [MS-TURN] codec (msturn) and the relay's MS-TURN dialect. Reading,
// disabling or deleting it touches nothing else of credsvc.
//
// Service is a credsvc.Dialect: set as credsvc.ServerOptions.MRAS, it
// claims the connections of the Server's port that open with a SIP
// request line (method SERVICE, or a sip: or sips: Request-URI) or a
// keep-alive ping, and serves them as persistent SIP connections. Their
// SERVICE requests carry an application/msrtc-media-relay-auth+xml
// document asking for credentials; the answer holds, base64-encoded, the
// same TURN REST credentials as the HTTP endpoints, issued by the same
// credsvc.Handler under the same client certificate, trust and rate
// rules, counted under credsvc.EndpointMRAS.
//
// Ask is the client side: what a Lync front end sends, over a
// credsvc.Client's mutual TLS.
package mras
