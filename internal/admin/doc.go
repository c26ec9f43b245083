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
// url.PathEscape does, and "." or ".." as %2E. Until an admin token
// exists these paths answer loopback clients only (403 to others). Their
// errors are JSON too, {"error": "..."}: 400 for a malformed identity,
// argument, query parameter or body, 404 for an unknown session or
// revocation, 413 for a body over 4 KiB, 415 for a body not declared
// application/json, 503 when the relay did not answer in time.
//
// Other paths get 404 and other methods 405. The server bounds its
// connections, header sizes and the time a request may take.
package admin
