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
	EndpointMRAS                            // SIP SERVICE requests of [MS-AVEDGEA] (MRAS)
	endpoints
)

var endpointNames = [endpoints]string{
	EndpointCredentials:     "credentials",
	EndpointTURNCredentials: "turn_credentials",
	EndpointOther:           "other",
	EndpointMRAS:            "mras",
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

// The outcomes of requests, one per answer status the service gives. The
// MRAS endpoint answers in SIP; its statuses are given where they differ.
const (
	OutcomeIssued               Outcome = iota // 200: a credential was issued
	OutcomeBadRequest                          // 400: invalid body, query, identity, TTL or location (MRAS: also a 200 with a failure reasonPhrase)
	OutcomeUntrustedClient                     // 403: no verified client certificate, or one not (or no longer) trusted
	OutcomeNotFound                            // 404: no such endpoint
	OutcomeMethodNotAllowed                    // 405: wrong method for the endpoint
	OutcomeBodyTooLarge                        // 413: body over 4 KiB (MRAS: over 64 KiB, or 513 for a header over 8 KiB)
	OutcomeUnsupportedMediaType                // 415: body not application/json (MRAS: not application/msrtc-media-relay-auth+xml)
	OutcomeRateLimited                         // 429: over the client's rate limit (MRAS: 503)
	OutcomeInternalError                       // 500: the credential could not be signed (MRAS: a 200 with reasonPhrase "Internal Server Error")
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
	c.add(endpointOf(r.URL.Path), outcomeOf(status))
}

// add counts a request to e answered with o.
func (c *requestCounts) add(e Endpoint, o Outcome) {
	c.n[e][o].Add(1)
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
