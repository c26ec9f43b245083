package credsvc

import "time"

// The Handler's operations below serve the requests of a Dialect, which
// follow the HTTP endpoints' rules: Authorize, Allow, Sign and LogIssued,
// Count or Refuse.

// Allow takes a token of client's rate limit. When there is none it
// returns false and how long until there is one.
func (h *Handler) Allow(client string) (bool, time.Duration) { return h.limit.allow(client, 1) }

// AllowN takes n tokens of client's rate limit, all or none, for a request
// that issues n credentials. When there are fewer it returns false and how
// long until there are n. n must be at most Burst: more can never be
// taken.
func (h *Handler) AllowN(client string, n int) (bool, time.Duration) { return h.limit.allow(client, n) }

// Burst returns the most tokens a client's rate limit holds: the most
// credentials one request may cost.
func (h *Handler) Burst() int { return h.opts.Rate.Burst }

// Count counts a request to e answered with o in the Handler's Stats.
func (h *Handler) Count(e Endpoint, o Outcome) { h.counts.add(e, o) }

// Refuse counts a refused request in the Handler's Stats and logs it as
// the HTTP refusals are: at most once a minute per peer IP.
func (h *Handler) Refuse(r Refusal) { refuseRequest(h.refusal, &h.counts, r) }

// MaxTTL returns the longest lifetime a credential is given.
func (h *Handler) MaxTTL() time.Duration { return h.opts.MaxTTL }

// Realm returns the relay's REALM, which goes with each credential.
func (h *Handler) Realm() string { return h.opts.Realm }
