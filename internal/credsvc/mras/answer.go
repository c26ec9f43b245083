package mras

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/netip"
	"strconv"
	"time"

	"github.com/avedge/avedge/internal/credsvc"
)

// The reasonPhrase values of MRAS responses ([MS-AVEDGEA] 2.2.3.2, as
// OfficeSIP and pidgin-sipe spell them).
const (
	mrasOK              = "OK"
	mrasMalformed       = "Request Malformed"
	mrasVersionMismatch = "Version Mismatch"
	mrasTooLarge        = "Request Too Large"
	mrasServerBusy      = "Server Busy"
	mrasForbidden       = "Forbidden"
	mrasInternalError   = "Internal Server Error"
	mrasOtherFailure    = "Other Failure"
)

const (
	// mrasMethod is the SIP method of MRAS requests.
	mrasMethod = "SERVICE"
	// mrasMaxDuration is the longest MRAS credential, and the one given
	// when a request names no duration: 480 minutes, as OfficeSIP and
	// the Lync default token lifetime.
	mrasMaxDuration = 480 * time.Minute
)

// serveMRAS answers an MRAS request ([MS-AVEDGEA] 3.1.5) that arrived on
// a connection with TLS state (the client certificate verified against the
// current CAs) from peer. It applies the HTTP endpoints' rules: the
// client must be trusted (403 Forbidden, and the connection is closed) and
// within its rate limit, which each credential asked for costs a token of
// (503 Service Unavailable with Retry-After). The method must be SERVICE
// (405 with Allow) and the body an MRAS document (415 with Accept); these
// two carry no body, as 3.1.5.1 asks. Other failures are a 200 whose
// document's reasonPhrase names them (more credentials than the client's
// burst, which could never be served: Request Too Large); a request's
// credentials are issued all or none.
func (s *Service) serveMRAS(req *sipRequest, state *tls.ConnectionState, peer string) sipResponse {
	h := s.h
	client, reason := h.Authorize(state)
	if client == "" {
		return s.refuseMRAS(req, peer, "", credsvc.OutcomeUntrustedClient,
			mrasFailure(nil, 403, mrasForbidden, true), reason)
	}
	if ok, wait := h.Allow(client); !ok {
		return s.refuseMRAS(req, peer, client, credsvc.OutcomeRateLimited, rateLimited(nil, wait), "rate limit exceeded")
	}
	if req.method != mrasMethod {
		return s.refuseMRAS(req, peer, client, credsvc.OutcomeMethodNotAllowed,
			sipResponse{status: 405, headers: []sipHeader{{"Allow", mrasMethod}}},
			"method "+req.method+" not allowed: use "+mrasMethod)
	}
	if mt, _, err := mime.ParseMediaType(firstOf(req.contentType)); err != nil || mt != mrasContentType {
		return s.refuseMRAS(req, peer, client, credsvc.OutcomeUnsupportedMediaType,
			sipResponse{status: 415, headers: []sipHeader{{"Accept", mrasContentType}}},
			"Content-Type must be "+mrasContentType)
	}
	maxMinutes := int(min(mrasMaxDuration, h.MaxTTL()) / time.Minute)
	doc, creds, err := parseMRASRequest(req.body, maxMinutes)
	if err != nil {
		phrase := mrasMalformed
		switch {
		case errors.Is(err, errMRASVersion):
			phrase = mrasVersionMismatch
		case errors.Is(err, errMRASTooLarge):
			phrase = mrasTooLarge
		}
		return s.refuseMRAS(req, peer, client, credsvc.OutcomeBadRequest, mrasFailure(doc, 200, phrase, false), err.Error())
	}
	if maxMinutes < 1 {
		return s.refuseMRAS(req, peer, client, credsvc.OutcomeBadRequest, mrasFailure(doc, 200, mrasOtherFailure, false),
			"the maximum credential lifetime is under a minute, the unit of MRAS durations")
	}
	// The token taken above pays for the first credential, and each
	// further one costs a token too, all or none: a request of many
	// credentials must not get around the client's rate.
	if len(creds) > h.Burst() {
		return s.refuseMRAS(req, peer, client, credsvc.OutcomeBadRequest, mrasFailure(doc, 200, mrasTooLarge, false),
			fmt.Sprintf("%d credentialsRequests, more than the client's rate limit burst of %d", len(creds), h.Burst()))
	}
	if extra := len(creds) - 1; extra > 0 {
		if ok, _ := h.AllowN(client, extra); !ok {
			// Retry-After covers the whole retry: its first token and
			// the extra ones (nothing is taken by asking for all).
			_, wait := h.AllowN(client, len(creds))
			return s.refuseMRAS(req, peer, client, credsvc.OutcomeRateLimited, rateLimited(doc, wait),
				fmt.Sprintf("rate limit exceeded by %d credentialsRequests", len(creds)))
		}
	}
	out := make([]credsvc.Issued, len(creds))
	for i, c := range creds {
		if out[i], err = h.Sign(c.identity, c.location, time.Duration(c.minutes)*time.Minute); err != nil {
			reason, internal := credsvc.SignRefusal(err, c.location)
			o, phrase := credsvc.OutcomeBadRequest, mrasOtherFailure
			if internal {
				o, phrase = credsvc.OutcomeInternalError, mrasInternalError
			}
			return s.refuseMRAS(req, peer, client, o, mrasFailure(doc, 200, phrase, false),
				"credentialsRequest "+strconv.Quote(c.id)+": "+reason)
		}
	}
	resp := mrasAnswer(doc, mrasOK)
	for i, c := range creds {
		h.LogIssued(client, c.identity, c.location, out[i])
		resp.Credentials = append(resp.Credentials, mrasCredentialsResponse{
			ID: c.id,
			Credentials: mrasCredentials{
				Username: base64.StdEncoding.EncodeToString([]byte(out[i].Username)),
				Password: base64.StdEncoding.EncodeToString([]byte(out[i].Password)),
				Duration: c.minutes,
				Realm:    h.Realm(),
			},
			Relays: mrasRelays(out[i].Relays),
		})
	}
	h.Count(credsvc.EndpointMRAS, credsvc.OutcomeIssued)
	return sipDocument(200, resp, false)
}

// refuseMRAS counts and logs a refused MRAS request with the Handler
// and returns resp.
func (s *Service) refuseMRAS(req *sipRequest, peer, client string, o credsvc.Outcome, resp sipResponse, reason string) sipResponse {
	s.h.Refuse(credsvc.Refusal{Peer: peer, Client: client, Method: req.method, Endpoint: credsvc.EndpointMRAS,
		Outcome: o, Status: resp.status, Reason: reason})
	return resp
}

// mrasAnswer returns a response document to doc (nil: the request's
// document was not read) with phrase: to and from are the request's from
// and to.
func mrasAnswer(doc *mrasRequest, phrase string) *mrasResponse {
	r := &mrasResponse{Version: mrasVersion, ServerVersion: mrasVersion, ReasonPhrase: phrase}
	if doc != nil {
		r.RequestID, r.To, r.From = doc.RequestID, doc.From, doc.To
	}
	return r
}

// rateLimited returns the answer to a request of doc (nil: not read) over
// the client's rate limit: 503 with Retry-After wait and reasonPhrase
// "Server Busy".
func rateLimited(doc *mrasRequest, wait time.Duration) sipResponse {
	resp := mrasFailure(doc, 503, mrasServerBusy, false)
	resp.headers = []sipHeader{{"Retry-After", credsvc.RetryAfter(wait)}}
	return resp
}

// mrasFailure returns a SIP response with status carrying a document
// without credentials whose reasonPhrase is phrase.
func mrasFailure(doc *mrasRequest, status int, phrase string, closeConn bool) sipResponse {
	return sipDocument(status, mrasAnswer(doc, phrase), closeConn)
}

// sipDocument returns a SIP response with status carrying doc.
func sipDocument(status int, doc *mrasResponse, closeConn bool) sipResponse {
	b, err := doc.marshal()
	if err != nil {
		return sipResponse{status: 500, close: true}
	}
	return sipResponse{status: status, body: b, close: closeConn}
}

// mrasRelays returns the mediaRelay elements of relays: an IP address as
// directIPAddress, a name as hostName; the UDP port; and as the TCP port
// the TLS port, or else the TCP port. The TLS port comes first because the
// A/V edge's TCP 443 takes MS-TURN's pseudo-TLS alongside real TLS.
func mrasRelays(relays []credsvc.Relay) []mrasMediaRelay {
	out := make([]mrasMediaRelay, 0, len(relays))
	for _, r := range relays {
		m := mrasMediaRelay{Location: r.Location, UDPPort: r.UDPPort, TCPPort: r.TLSPort}
		if m.TCPPort == 0 {
			m.TCPPort = r.TCPPort
		}
		if ip, err := netip.ParseAddr(r.Host); err == nil {
			m.DirectIPAddress = ip.String()
		} else {
			m.HostName = r.Host
		}
		out = append(out, m)
	}
	return out
}

// firstOf returns the first of values, or "".
func firstOf(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}
