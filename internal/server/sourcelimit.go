package server

import (
	"fmt"
	"net/netip"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/policy"
)

// sourceLimitEntries is the number of sources each worker's limiter of
// unauthenticated requests tracks: 65,536 slots of 24 bytes, 1.5 MiB per
// worker, allocated once (see policy.SourceLimiter for what a flood of
// more sources does).
//
// Each worker has its own limiter, with no locks. SO_REUSEPORT spreads the
// datagrams of one source address over the workers by source port, and TCP
// and TLS connections are spread over workers too, so one source may get
// up to workers × the configured rate and burst.
const sourceLimitEntries = 1 << 16

// newSourceLimiter returns a worker's limiter for lim, or nil when lim
// sets no limit (Rate 0).
func newSourceLimiter(lim policy.SourceLimit, clk clock.Clock) (*policy.SourceLimiter, error) {
	if lim.Rate == 0 {
		return nil, nil
	}
	l, err := policy.NewSourceLimiter(lim, sourceLimitEntries, clk)
	if err != nil {
		return nil, fmt.Errorf("server: unauthenticated limit: %w", err)
	}
	return l, nil
}

// unauthenticated reports whether m is limited per source on arrival:
// Binding requests, which need no credentials (RFC 8489 §6.3.1), and
// requests with neither MESSAGE-INTEGRITY nor MESSAGE-INTEGRITY-SHA256,
// which can only get an error (401 for the TURN methods, RFC 8489 §9.2.4).
// Both can be sent from a forged source address to make the server send
// its answer to a victim; an authenticated client sends only a handful of
// them per allocation.
func unauthenticated(m *stun.Message) bool {
	return m.Type.Method == stun.MethodBinding ||
		!m.Contains(stun.AttrMessageIntegrity) && !m.Contains(stun.AttrMessageIntegritySHA256)
}

// allowSource takes a token from the unauthenticated limit of from's
// address and reports whether there was one.
func (w *worker) allowSource(from netip.AddrPort) bool {
	return w.limit == nil || w.limit.Allow(from.Addr())
}
