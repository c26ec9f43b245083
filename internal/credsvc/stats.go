package credsvc

import (
	"net/http"
	"sync/atomic"
)

// Endpoint names what a request asked for, for its count.
type Endpoint uint8

// The endpoints requests are counted under.
const (
	EndpointCredentials     Endpoint = iota // POST /v1/credentials
	EndpointTURNCredentials                 // GET /v1/turn-credentials
	EndpointOther                           // any other path
	endpoints
)

var endpointNames = [endpoints]string{
	EndpointCredentials:     "credentials",
	EndpointTURNCredentials: "turn_credentials",
	EndpointOther:           "other",
}

// String returns the metric label of the endpoint.
func (e Endpoint) String() string {
	if e >= endpoints {
		return "unknown"
	}
	return endpointNames[e]
}

// endpointOf returns the endpoint of a request path.
func endpointOf(path string) Endpoint {
	switch path {
	case CredentialsPath:
		return EndpointCredentials
	case TURNCredentialsPath:
		return EndpointTURNCredentials
	default:
		return EndpointOther
	}
}

// Outcome is how the service answered a request.
type Outcome uint8

// The outcomes of requests, one per answer status the service gives.
const (
	OutcomeIssued               Outcome = iota // 200: a credential was issued
	OutcomeBadRequest                          // 400: invalid body, query, identity, TTL or location
	OutcomeUntrustedClient                     // 403: no verified client certificate, or one not (or no longer) trusted
	OutcomeNotFound                            // 404: no such endpoint
	OutcomeMethodNotAllowed                    // 405: wrong method for the endpoint
	OutcomeBodyTooLarge                        // 413: body over 4 KiB
	OutcomeUnsupportedMediaType                // 415: body not application/json
	OutcomeRateLimited                         // 429: over the client's rate limit
	OutcomeInternalError                       // 500: the credential could not be signed
	outcomes
)

var outcomeNames = [outcomes]string{
	OutcomeIssued:               "issued",
	OutcomeBadRequest:           "bad_request",
	OutcomeUntrustedClient:      "untrusted_client",
	OutcomeNotFound:             "not_found",
	OutcomeMethodNotAllowed:     "method_not_allowed",
	OutcomeBodyTooLarge:         "body_too_large",
	OutcomeUnsupportedMediaType: "unsupported_media_type",
	OutcomeRateLimited:          "rate_limited",
	OutcomeInternalError:        "internal_error",
}

// String returns the metric label of the outcome.
func (o Outcome) String() string {
	if o >= outcomes {
		return "unknown"
	}
	return outcomeNames[o]
}

// outcomeOf returns the outcome of an answer with status.
func outcomeOf(status int) Outcome {
	switch status {
	case http.StatusOK:
		return OutcomeIssued
	case http.StatusForbidden:
		return OutcomeUntrustedClient
	case http.StatusNotFound:
		return OutcomeNotFound
	case http.StatusMethodNotAllowed:
		return OutcomeMethodNotAllowed
	case http.StatusRequestEntityTooLarge:
		return OutcomeBodyTooLarge
	case http.StatusUnsupportedMediaType:
		return OutcomeUnsupportedMediaType
	case http.StatusTooManyRequests:
		return OutcomeRateLimited
	case http.StatusBadRequest:
		return OutcomeBadRequest
	default:
		return OutcomeInternalError
	}
}

// Stats counts the requests the service answered, by endpoint and outcome.
type Stats struct {
	Requests [endpoints][outcomes]uint64
}

// Count returns the requests to e answered with o.
func (s Stats) Count(e Endpoint, o Outcome) uint64 {
	if e >= endpoints || o >= outcomes {
		return 0
	}
	return s.Requests[e][o]
}

// requestCounts are live request counts; safe for concurrent use.
type requestCounts struct {
	n [endpoints][outcomes]atomic.Uint64
}

// count counts a request r answered with status.
func (c *requestCounts) count(r *http.Request, status int) {
	c.n[endpointOf(r.URL.Path)][outcomeOf(status)].Add(1)
}

// addTo adds the counts to st.
func (c *requestCounts) addTo(st *Stats) {
	for e := range c.n {
		for o := range c.n[e] {
			st.Requests[e][o] += c.n[e][o].Load()
		}
	}
}

// Stats returns the requests the Handler answered.
func (h *Handler) Stats() Stats {
	var st Stats
	h.counts.addTo(&st)
	return st
}

// Stats returns the requests the Server answered: those it refused itself
// (a client certificate that no longer verifies) and those of its Handler
// when that is a *Handler.
func (s *Server) Stats() Stats {
	var st Stats
	s.counts.addTo(&st)
	if h, ok := s.handler.(*Handler); ok {
		h.counts.addTo(&st)
	}
	return st
}
