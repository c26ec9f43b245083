// Package admin is avedge's admin HTTP server, meant for the internal
// interface only. It answers three paths to GET and HEAD, and one to POST:
//
//	/metrics      the Prometheus text exposition of a prometheus.Gatherer
//	/healthz      200 while the process serves
//	/readyz       200 while ready for new allocations; 503 while starting
//	              or draining (see Server.SetReady)
//	POST /drain   turns /readyz not ready and calls Options.Drain (404
//	              without it); answers 202
//
// The first three answer anyone. POST /drain and the session control paths
// are the control paths: they need the admin token (Options.Token) as a
// bearer token, "Authorization: Bearer TOKEN" (401 without it, 403 to
// every request when no token is configured), and refuse what a browser
// sends on behalf of a web page: a request with an Origin header (403,
// cross-site request forgery) and one whose Host header is not the
// listener's IP address and port, or localhost and its port on a loopback
// listener (421, DNS rebinding). Their refusals are plain text for /drain
// and JSON for session control.
//
// With Options.Sessions it also answers the session control paths, in
// JSON:
//
//	GET /sessions?user=U&identity=I  {"sessions": [...]}, the live
//	                                 sessions (both parameters optional)
//	DELETE /sessions/{id}            ends a session: {"ended": id}
//	GET /revocations                 {"revocations": [...]}
//	POST /revocations                revokes {"identity": I, "until":
//	                                 RFC 3339 time, optional} and ends I's
//	                                 sessions: {"revocation": {...},
//	                                 "ended_sessions": N}
//	DELETE /revocations/{identity}   lifts a revocation: {"lifted": I}
//
// {id} and {identity} are the rest of the path, percent-decoded: an
// identity holding '/' (or '%', '?', '#') is sent escaped, as
// url.PathEscape does, and "." or ".." as %2E. Their errors are JSON too,
// {"error": "..."}: 400 for a malformed identity, argument, query
// parameter or body, 404 for an unknown session or revocation, 413 for a
// body over 4 KiB, 415 for a body not declared application/json, 503 when
// the relay did not answer in time.
//
// Other paths get 404 and other methods 405. The server bounds its
// connections, header sizes and the time a request may take.
package admin
