package mras

import (
	"strings"

	"github.com/avedge/avedge/internal/credsvc"
)

// sniff tells from the first bytes of a connection whether it speaks SIP:
// a keep-alive ping (CRLFCRLF, RFC 5626 §4.4.1), or a request line whose
// method is SERVICE or whose Request-URI is a sip: or sips: URI (RFC 3261
// §7.1), after any CRLFs (RFC 3261 §7.5 lets them precede a request).
// Everything else is HTTP. It returns SniffUndecided while p is a prefix
// of both.
func sniff(p []byte) credsvc.Sniffed {
	i := 0
	for i+1 < len(p) && p[i] == '\r' && p[i+1] == '\n' {
		i += 2
	}
	if i >= 4 {
		return credsvc.SniffClaimed
	}
	rest := p[i:]
	if len(rest) == 0 || (len(rest) == 1 && rest[0] == '\r') {
		return credsvc.SniffUndecided
	}
	sp := 0
	for sp < len(rest) && isSIPTokenByte(rest[sp]) {
		sp++
	}
	switch {
	case sp == len(rest):
		return credsvc.SniffUndecided
	case sp == 0 || rest[sp] != ' ':
		return credsvc.SniffHTTP
	case string(rest[:sp]) == mrasMethod:
		return credsvc.SniffClaimed
	}
	uri := rest[sp+1:]
	for _, scheme := range []string{"sip:", "sips:"} {
		n := min(len(uri), len(scheme))
		if !strings.EqualFold(string(uri[:n]), scheme[:n]) {
			continue
		}
		if n == len(scheme) {
			return credsvc.SniffClaimed
		}
		return credsvc.SniffUndecided
	}
	return credsvc.SniffHTTP
}
