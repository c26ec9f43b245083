package credsvc

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/avedge/avedge/internal/netx"
)

// maxSniff bounds the bytes read to tell a Dialect from HTTP (MRAS needs
// a method token, a space and "sips:", after any empty lines); a
// connection still undecided then is HTTP.
const maxSniff = 64

// sniffConn reads from br until sniff decides, at most maxSniff bytes
// (HTTP if still undecided then); the bytes stay buffered in br.
func sniffConn(br *bufio.Reader, sniff func([]byte) Sniffed) (Sniffed, error) {
	for {
		p, _ := br.Peek(br.Buffered())
		if v := sniff(p); v != SniffUndecided {
			return v, nil
		}
		if len(p) >= maxSniff {
			return SniffHTTP, nil
		}
		// Wait for at least one more byte.
		if _, err := br.Peek(len(p) + 1); err != nil {
			return SniffUndecided, err
		}
	}
}

// serveConn serves a connection that s.conns tracks: the TLS handshake
// and the first bytes within the timeout, then the Dialect when it claims
// the connection, or else HTTP.
func (s *Server) serveConn(c net.Conn) {
	tc := tls.Server(c, s.base)
	owned := true
	defer func() {
		s.conns.Remove(c)
		if owned {
			_ = tc.Close()
		}
	}()
	_ = c.SetDeadline(time.Now().Add(s.timeout))
	if err := tc.Handshake(); err != nil {
		s.handshakeRefused(c, err)
		return
	}
	state := tc.ConnectionState()
	if s.dialect == nil {
		owned = !s.handOff(c, tc, &state, nil)
		return
	}
	br := bufio.NewReaderSize(tc, maxSniff)
	v, err := sniffConn(br, s.dialect.Sniff)
	if err != nil {
		return // closed, or nothing sent within the timeout
	}
	b, _ := br.Peek(br.Buffered())
	sniffed := bytes.Clone(b)
	if v == SniffHTTP {
		owned = !s.handOff(c, tc, &state, sniffed)
		return
	}
	s.dialect.Serve(&Conn{PrefixConn: netx.PrefixConn{Conn: tc, Prefix: sniffed}, state: &state, raw: c, srv: s})
}

// handOff hands tc, with the bytes sniffed, to the http.Server; it reports
// false if the Server is shutting down.
func (s *Server) handOff(c net.Conn, tc *tls.Conn, state *tls.ConnectionState, sniffed []byte) bool {
	s.conns.Remove(c)
	return s.httpLn.handOff(&httpConn{PrefixConn: netx.PrefixConn{Conn: tc, Prefix: sniffed}, state: state})
}

// handshakeRefused logs a failed TLS handshake (no, untrusted or expired
// client certificate, unsupported TLS version, timeout, ...) through the
// refusal log. A client that sent plain HTTP is told so, as net/http does.
func (s *Server) handshakeRefused(c net.Conn, err error) {
	reason := err.Error()
	if re, ok := errors.AsType[tls.RecordHeaderError](err); ok && re.Conn != nil && looksLikeHTTP(re.RecordHeader[:]) {
		_, _ = io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		reason = "client sent an HTTP request to an HTTPS server"
	}
	peer := c.RemoteAddr().String()
	s.refusal.warn(peer, "credential service: TLS handshake refused", slog.String("peer", peer), slog.String("reason", reason))
}

// looksLikeHTTP reports whether the first 5 bytes of a connection are
// those of an HTTP request.
func looksLikeHTTP(hdr []byte) bool {
	switch string(hdr) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}
