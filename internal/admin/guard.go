package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// minTokenLen is the shortest Options.Token accepted.
const minTokenLen = 16

// The refusals of the control paths.
const (
	msgOrigin   = "requests from a web page (with an Origin header) are refused"
	msgHost     = "the Host header does not name this listener; address it by its IP address and port"
	msgNoToken  = "the admin token is not configured: set admin.token_file to enable POST /drain and session control"
	msgBadToken = "a valid admin token is required: send Authorization: Bearer <the content of admin.token_file>"
)

// authenticate is what WWW-Authenticate holds in a 401 answer (RFC 6750).
const authenticate = `Bearer realm="avedge admin"`

// tokenHash returns the SHA-256 of token: the server keeps and compares
// hashes, so that a comparison takes the same time whatever the length of
// the token presented.
func tokenHash(token []byte) [sha256.Size]byte { return sha256.Sum256(token) }

// guard checks a request to a control path (POST /drain, session control)
// and answers a refusal, in JSON when asJSON, else in plain text. It
// refuses a request with an Origin header (403: a browser sent it, on
// behalf of a web page, which is what cross-site request forgery does), a
// Host header that does not name the listener (421: DNS rebinding makes a
// browser send a page's requests to an address the page's name resolves
// to), any request when no token is configured (403), and a request
// without the token as a bearer token (401). It reports whether the
// request may go on.
func (s *Server) guard(w http.ResponseWriter, r *http.Request, asJSON bool) bool {
	code, msg, reason := 0, "", ""
	switch {
	case len(r.Header.Values("Origin")) > 0:
		code, msg, reason = http.StatusForbidden, msgOrigin, "origin"
	case !hostNames(r.Host, s.addr):
		code, msg, reason = http.StatusMisdirectedRequest, msgHost, "host"
	case !s.hasToken:
		code, msg, reason = http.StatusForbidden, msgNoToken, "no token configured"
	case !s.validToken(r.Header):
		code, msg, reason = http.StatusUnauthorized, msgBadToken, "token"
		w.Header().Set("WWW-Authenticate", authenticate)
	default:
		return true
	}
	s.log.Warn("admin request refused", "reason", reason, "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
	if asJSON {
		writeError(w, code, msg)
	} else {
		plain(w, code, msg+"\n")
	}
	return false
}

// validToken reports whether h holds one Authorization header with the
// server's token as a bearer token (RFC 6750 §2.1), compared in constant
// time.
func (s *Server) validToken(h http.Header) bool {
	values := h.Values("Authorization")
	if len(values) != 1 {
		return false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := tokenHash([]byte(strings.TrimLeft(token, " ")))
	return subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
}

// hostNames reports whether host, a request's Host header, names the
// listener at addr: its IP address and port (any IP address with its port
// when addr is a wildcard), or "localhost" and its port when addr is a
// loopback or wildcard address. A host without a port means port 80, the
// default of http. Host names are refused: a browser tricked by DNS
// rebinding sends the name the page was loaded from.
func hostNames(host string, addr netip.AddrPort) bool {
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		name, port = host, "80"
		if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
			name = name[1 : len(name)-1]
		}
	}
	if port != strconv.Itoa(int(addr.Port())) {
		return false
	}
	listen := addr.Addr().Unmap()
	if strings.EqualFold(name, "localhost") {
		return listen.IsLoopback() || listen.IsUnspecified()
	}
	ip, err := netip.ParseAddr(name)
	if err != nil || ip.Zone() != "" {
		return false
	}
	return listen.IsUnspecified() || ip.Unmap() == listen
}
