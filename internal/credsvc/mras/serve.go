package mras

import (
	"bufio"
	"crypto/rand"
	"errors"
	"sync"

	"github.com/avedge/avedge/internal/credsvc"
)

// Service answers MRAS on a credsvc.Server's port: it is the Server's
// Dialect (credsvc.ServerOptions.MRAS), and issues credentials with a
// credsvc.Handler under that Handler's rules. It is safe for concurrent
// use.
type Service struct {
	h *credsvc.Handler

	// perClient bounds the SIP connections of one trusted client name
	// (maxConnsPerClient); open counts them.
	perClient int
	mu        sync.Mutex
	open      map[string]int
}

// maxConnsPerClient bounds the SIP connections of one trusted client
// name: a Lync or Skype for Business pool (up to 12 front ends, which
// may share the pool's certificate name) keeps one or two each to the
// edge, and a trusted certificate on many hosts cannot take more than a
// quarter of the Server's default 256 connections.
const maxConnsPerClient = 64

// New returns a Service issuing credentials with h, which should be the
// Server's Handler, so that MRAS and HTTP share trust, rate limits and
// counts.
func New(h *credsvc.Handler) *Service {
	return &Service{h: h, perClient: maxConnsPerClient, open: make(map[string]int)}
}

// Sniff claims a connection that opens with a SIP request line (method
// SERVICE, or a sip: or sips: Request-URI) or a keep-alive ping.
func (s *Service) Sniff(p []byte) credsvc.Sniffed { return sniff(p) }

// Serve answers the SIP requests of a connection until it closes, is
// idle for 60s, sends a request slower than the Server's timeout, breaks
// the SIP framing or is refused with 403. Keep-alive pings (CRLFCRLF) are
// answered with a pong (CRLF) as RFC 5626 §4.4.1 asks; lone CRLFs before a
// request are skipped (RFC 3261 §7.5).
//
// A connection whose client certificate is not (or no longer) trusted,
// or whose client name already holds 64 SIP connections, is
// closed at once, before anything it sent is read or answered, and
// counted as a refused request: a keep-alive ping is not a request, and
// an untrusted client must not hold a connection by pinging.
func (s *Service) Serve(c *credsvc.Conn) {
	peer := c.RemoteAddr().String()
	client, ok := s.admit(c, peer)
	if !ok {
		return
	}
	defer s.release(client)
	br := bufio.NewReaderSize(c, maxSIPHeader)
	var out []byte
	crlf := false // the last bytes read were a lone CRLF
	for {
		if !c.Idle() {
			return
		}
		if _, err := br.Peek(1); err != nil {
			return
		}
		c.Busy()
		if b, _ := br.Peek(2); string(b) == "\r\n" {
			_, _ = br.Discard(2)
			if crlf {
				if _, err := c.Write([]byte("\r\n")); err != nil {
					return
				}
			}
			crlf = !crlf
			continue
		}
		crlf = false
		resp, req := s.answerSIP(br, c, peer)
		if resp.status == 0 {
			return // an I/O error: nothing to answer
		}
		out = appendSIPResponse(out[:0], req, resp, rand.Text())
		if _, err := c.Write(out); err != nil || resp.close {
			return
		}
	}
}

// admit authorises the client of a new connection, as the HTTP endpoints
// do for each request, and takes one of its name's places. It refuses
// (and counts) an untrusted client, or one at its limit of connections.
func (s *Service) admit(c *credsvc.Conn, peer string) (client string, ok bool) {
	refuse := func(o credsvc.Outcome, status int, reason string) {
		c.Refuse(credsvc.Refusal{Peer: peer, Client: client, Endpoint: credsvc.EndpointMRAS, Outcome: o, Status: status,
			Reason: reason + "; connection closed"})
	}
	verified, err := c.Verify()
	if err != nil {
		refuse(credsvc.OutcomeUntrustedClient, 403, err.Error())
		return "", false
	}
	client, reason := s.h.Authorize(verified)
	if client == "" {
		refuse(credsvc.OutcomeUntrustedClient, 403, reason)
		return "", false
	}
	s.mu.Lock()
	ok = s.open[client] < s.perClient
	if ok {
		s.open[client]++
	}
	s.mu.Unlock()
	if !ok {
		refuse(credsvc.OutcomeRateLimited, 503, "too many SIP connections of this client")
	}
	return client, ok
}

// release gives back a place of client's connections.
func (s *Service) release(client string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[client]--; s.open[client] <= 0 {
		delete(s.open, client)
	}
}

// answerSIP reads one request and returns the response (status 0 for
// none: the connection failed) and the request, nil if it could not be
// read. A request that breaks the framing is refused and the connection
// closed; one missing a mandatory header field gets 400; the others are
// answered once the client certificate verifies against the current
// client CAs (403 and close otherwise, as the Server does for HTTP).
func (s *Service) answerSIP(br *bufio.Reader, c *credsvc.Conn, peer string) (sipResponse, *sipRequest) {
	req, err := readSIPRequest(br)
	method := ""
	if req != nil {
		method = req.method
	}
	refuse := func(o credsvc.Outcome, status int, reason string) {
		c.Refuse(credsvc.Refusal{Peer: peer, Method: method, Endpoint: credsvc.EndpointMRAS, Outcome: o, Status: status, Reason: reason})
	}
	switch {
	case errors.Is(err, errSIPMalformed):
		refuse(credsvc.OutcomeBadRequest, 400, err.Error())
		return sipResponse{status: 400, close: true}, req
	case errors.Is(err, errSIPHeaderTooLarge):
		refuse(credsvc.OutcomeBodyTooLarge, 513, err.Error())
		return sipResponse{status: 513, close: true}, req
	case errors.Is(err, errSIPBodyTooLarge):
		refuse(credsvc.OutcomeBodyTooLarge, 413, err.Error())
		return sipResponse{status: 413, close: true}, req
	case err != nil:
		return sipResponse{}, nil
	}
	if err := req.check(); err != nil {
		refuse(credsvc.OutcomeBadRequest, 400, err.Error())
		return sipResponse{status: 400}, req
	}
	verified, err := c.Verify()
	if err != nil {
		refuse(credsvc.OutcomeUntrustedClient, 403, err.Error())
		return mrasFailure(nil, 403, mrasForbidden, true), req
	}
	return s.serveMRAS(req, verified, peer), req
}
