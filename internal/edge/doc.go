// Package edge is avedge's composition root: the one place that turns a
// configuration into a running edge and a re-read configuration into
// changes of it.
//
// Build makes the relay (internal/server), the credential service
// (internal/credsvc), the session records writer (internal/records) and
// the admin endpoints with their metrics (internal/admin,
// internal/metrics) from a *config.Config; Run serves them. On SIGHUP,
// Apply puts a new configuration into effect, all or nothing: it prepares
// everything it changes and applies it only when all of it loaded. Which
// changes it applies is a declared set of keys (Reloadable); a change of
// any other key, found by comparing the whole configurations
// (config.Changed), needs a restart and is logged by key. Each runtime
// object derived from the configuration (keyring, peer policy, source
// limit, quotas, certificates) is built by one function, used at start
// and on reload.
package edge
