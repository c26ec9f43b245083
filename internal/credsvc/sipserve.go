package credsvc

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"net"
	"time"
)

// serveSIP answers the SIP requests of a connection until it closes, is
// idle for 60s, sends a request slower than the timeout, breaks the SIP
// framing or is refused with 403. Keep-alive pings (CRLFCRLF) are
// answered with a pong (CRLF) as RFC 5626 §4.4.1 asks; lone CRLFs before a
// request are skipped (RFC 3261 §7.5). raw is the TCP connection under tc,
// which s.conns tracks; the caller closes it.
func (s *Server) serveSIP(raw net.Conn, tc *tls.Conn, br *bufio.Reader, state *tls.ConnectionState) {
	peer := raw.RemoteAddr().String()
	var out []byte
	crlf := false // the last bytes read were a lone CRLF
	for {
		if !s.conns.Idle(raw) {
			return
		}
		_ = tc.SetDeadline(time.Now().Add(idleTimeout))
		if _, err := br.Peek(1); err != nil {
			return
		}
		s.conns.Busy(raw)
		_ = tc.SetDeadline(time.Now().Add(s.timeout))
		if b, _ := br.Peek(2); string(b) == "\r\n" {
			_, _ = br.Discard(2)
			if crlf {
				if _, err := tc.Write([]byte("\r\n")); err != nil {
					return
				}
			}
			crlf = !crlf
			continue
		}
		crlf = false
		resp, req := s.answerSIP(br, state, peer)
		if resp.status == 0 {
			return // an I/O error: nothing to answer
		}
		out = appendSIPResponse(out[:0], req, resp, rand.Text())
		if _, err := tc.Write(out); err != nil || resp.close {
			return
		}
	}
}

// answerSIP reads one request and returns the response (status 0 for
// none: the connection failed) and the request, nil if it could not be
// read. A request that breaks the framing is refused and the connection
// closed; one missing a mandatory header field gets 400; the others go to
// the Handler once the client certificate verifies against the current
// client CAs (403 and close otherwise, as reverify does for HTTP).
func (s *Server) answerSIP(br *bufio.Reader, state *tls.ConnectionState, peer string) (sipResponse, *sipRequest) {
	req, err := readSIPRequest(br)
	method := ""
	if req != nil {
		method = req.method
	}
	switch {
	case errors.Is(err, errSIPMalformed):
		refuseSIP(s.refusal, &s.counts, peer, "", method, OutcomeBadRequest, 400, err.Error())
		return sipResponse{status: 400, close: true}, req
	case errors.Is(err, errSIPHeaderTooLarge):
		refuseSIP(s.refusal, &s.counts, peer, "", method, OutcomeBodyTooLarge, 513, err.Error())
		return sipResponse{status: 513, close: true}, req
	case errors.Is(err, errSIPBodyTooLarge):
		refuseSIP(s.refusal, &s.counts, peer, "", method, OutcomeBodyTooLarge, 413, err.Error())
		return sipResponse{status: 413, close: true}, req
	case err != nil:
		return sipResponse{}, nil
	}
	if err := req.check(); err != nil {
		refuseSIP(s.refusal, &s.counts, peer, "", method, OutcomeBadRequest, 400, err.Error())
		return sipResponse{status: 400}, req
	}
	verified, err := s.reverifyState(state)
	if err != nil {
		refuseSIP(s.refusal, &s.counts, peer, "", method, OutcomeUntrustedClient, 403, err.Error())
		return mrasFailure(nil, 403, mrasForbidden, true), req
	}
	return s.mras.serveMRAS(req, verified, peer), req
}
