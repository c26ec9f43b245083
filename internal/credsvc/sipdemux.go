package credsvc

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/avedge/avedge/internal/netx"
)

// maxSniff bounds the bytes read to tell SIP from HTTP: a method token, a
// space and "sips:", after any empty lines.
const maxSniff = 64

// protocol is what a connection speaks.
type protocol uint8

const (
	protoUndecided protocol = iota
	protoHTTP
	protoSIP
)

// sniff tells from the first bytes of a connection whether it speaks SIP:
// a keep-alive ping (CRLFCRLF, RFC 5626 §4.4.1), or a request line whose
// method is SERVICE or whose Request-URI is a sip: or sips: URI (RFC 3261
// §7.1), after any CRLFs (RFC 3261 §7.5 lets them precede a request).
// Everything else is HTTP. It returns protoUndecided while p is a prefix
// of both.
func sniff(p []byte) protocol {
	i := 0
	for i+1 < len(p) && p[i] == '\r' && p[i+1] == '\n' {
		i += 2
	}
	if i >= 4 {
		return protoSIP
	}
	rest := p[i:]
	if len(rest) == 0 || (len(rest) == 1 && rest[0] == '\r') {
		return protoUndecided
	}
	sp := 0
	for sp < len(rest) && isSIPTokenByte(rest[sp]) {
		sp++
	}
	switch {
	case sp == len(rest):
		return protoUndecided
	case sp == 0 || rest[sp] != ' ':
		return protoHTTP
	case string(rest[:sp]) == mrasMethod:
		return protoSIP
	}
	uri := rest[sp+1:]
	for _, scheme := range []string{"sip:", "sips:"} {
		n := min(len(uri), len(scheme))
		if !strings.EqualFold(string(uri[:n]), scheme[:n]) {
			continue
		}
		if n == len(scheme) {
			return protoSIP
		}
		return protoUndecided
	}
	return protoHTTP
}

// sniffConn reads from br until sniff decides, at most maxSniff bytes
// (HTTP if still undecided then); the bytes stay buffered in br.
func sniffConn(br *bufio.Reader) (protocol, error) {
	for {
		p, _ := br.Peek(br.Buffered())
		if proto := sniff(p); proto != protoUndecided {
			return proto, nil
		}
		if len(p) >= maxSniff {
			return protoHTTP, nil
		}
		// Wait for at least one more byte.
		if _, err := br.Peek(len(p) + 1); err != nil {
			return protoUndecided, err
		}
	}
}

// serveConn serves a connection that s.conns tracks: the TLS
// handshake and the first bytes within the timeout, then SIP (when the
// Handler answers MRAS) or HTTP.
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
	if s.mras == nil {
		owned = !s.handOff(c, tc, &state, nil)
		return
	}
	br := bufio.NewReaderSize(tc, maxSIPHeader)
	proto, err := sniffConn(br)
	switch {
	case err != nil:
		return // closed, or nothing sent within the timeout
	case proto == protoHTTP:
		b, _ := br.Peek(br.Buffered())
		owned = !s.handOff(c, tc, &state, bytes.Clone(b))
	default:
		s.serveSIP(c, tc, br, &state)
	}
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
