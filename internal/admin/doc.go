// Package admin is avedge's admin HTTP server, meant for the internal
// interface only. It answers exactly three paths to GET and HEAD, and one
// to POST:
//
//	/metrics      the Prometheus text exposition of a prometheus.Gatherer
//	/healthz      200 while the process serves
//	/readyz       200 while ready for new allocations; 503 while starting
//	              or draining (see Server.SetReady)
//	POST /drain   turns /readyz not ready and calls Options.Drain (404
//	              without it); answers 202
//
// Other paths get 404 and other methods 405. The server bounds its
// connections, header sizes and the time a request may take.
package admin
