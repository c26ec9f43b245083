// Package metrics turns avedge's live counters into Prometheus metrics.
//
// Every metric avedge exports is declared in this package, in families.go.
// A Collector holds no counters of its own: the relay already keeps them
// per worker, and the Collector reads their sums (server.Server.Stats) once
// per scrape and reports them as constant metrics. Scraping therefore adds
// no work to the packet path.
//
// Metric names carry the prefix "avedge_"; counters end in "_total".
// docs/metrics.md describes each of them.
package metrics
