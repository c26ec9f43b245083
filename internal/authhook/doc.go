// Package authhook asks an external HTTPS service for the credentials of
// TURN usernames the edge cannot verify itself (auth.webhook): it is an
// auth.Hook.
//
// The protocol: a POST of the JSON {"username", "realm", "client"
// ("ip:port"), "transport"} to the configured URL, over TLS 1.2 or later
// (the client may present a certificate, mTLS, and a bearer token).
// 200 with {"password": "..."} or {"ha1": "<32 hex digits>"} allows the
// username with that credential; 403 or 404 refuses it. Anything else —
// another status, a malformed or oversized body, a timeout, a refused
// connection — refuses it too (fail closed).
//
// The request path never waits for the service: Client.Credential answers
// from a cache, or starts a lookup (one per username however many
// requests ask, at most Options.MaxInflight at once; beyond that the
// username is refused and counted as overloaded) and returns an
// *auth.Pending whose channel is closed when the answer is cached. Allowed
// answers are reused for Options.Cache, refusals and failures for
// Options.NegativeCache. Passwords, keys and the token are never logged.
package authhook
