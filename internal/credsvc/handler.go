package credsvc

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Paths of the service's endpoints.
const (
	// CredentialsPath answers POST with a Credential.
	CredentialsPath = "/v1/credentials"
	// TURNCredentialsPath answers GET with a RESTCredential.
	TURNCredentialsPath = "/v1/turn-credentials"
)

// Handler is the credential service's http.Handler. It expects requests
// whose TLS client certificate was verified (Server sets that up) and
// refuses others with 403. It is safe for concurrent use.
type Handler struct {
	opts    Options
	limit   *limiter
	refusal *refusalLog
	trusted atomic.Pointer[map[string]bool]
	counts  requestCounts
}

// NewHandler validates opts and returns a Handler (ErrBadOptions).
func NewHandler(opts Options) (*Handler, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	h := &Handler{opts: opts, limit: newLimiter(opts.Rate, opts.MaxClients, opts.Clock),
		refusal: newRefusalLog(opts.Logger, opts.Clock)}
	if err := h.SetTrusted(opts.Trusted); err != nil {
		return nil, err
	}
	return h, nil
}

// SetTrusted replaces the trusted client names, for example on reload; it
// applies to the next request, also on open connections. Names are DNS
// names compared without regard to ASCII case. An empty list is
// ErrBadOptions.
func (h *Handler) SetTrusted(names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("%w: no trusted client names", ErrBadOptions)
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[asciiLower(n)] = true
	}
	h.trusted.Store(&m)
	return nil
}

// ServeHTTP authorises the client, applies its rate limit and routes the
// request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	client, reason := h.Authorize(r.TLS)
	if client == "" {
		h.refuse(w, r, "", http.StatusForbidden, reason)
		return
	}
	if ok, wait := h.Allow(client); !ok {
		w.Header().Set("Retry-After", RetryAfter(wait))
		h.refuse(w, r, client, http.StatusTooManyRequests, "rate limit exceeded")
		return
	}
	switch r.URL.Path {
	case CredentialsPath:
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			h.refuse(w, r, client, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: use POST")
			return
		}
		h.credentials(w, r, client)
	case TURNCredentialsPath:
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			h.refuse(w, r, client, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: use GET")
			return
		}
		h.turnCredentials(w, r, client)
	default:
		h.refuse(w, r, client, http.StatusNotFound, "no such endpoint: use POST "+CredentialsPath+" or GET "+TURNCredentialsPath)
	}
}

// RetryAfter renders a wait as the whole seconds of a Retry-After header,
// rounded up.
func RetryAfter(wait time.Duration) string {
	return strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10)
}

// Authorize returns the trusted name of the verified client certificate
// of a connection's TLS state (nil: none), or "" and why it is refused.
// ServeHTTP asks it first; a Dialect asks it for each request.
func (h *Handler) Authorize(state *tls.ConnectionState) (client, reason string) {
	if state == nil || len(state.VerifiedChains) == 0 || len(state.VerifiedChains[0]) == 0 {
		return "", "no verified client certificate"
	}
	cert := state.VerifiedChains[0][0]
	// The handshake checked validity; a kept-alive connection may outlive it.
	if now := h.opts.Clock.Now(); now.After(cert.NotAfter) || now.Before(cert.NotBefore) {
		return "", "client certificate " + describe(cert) + " is outside its validity period"
	}
	names := clientNames(cert)
	if len(names) == 0 {
		return "", "client certificate " + describe(cert) + " carries no DNS name"
	}
	trusted := *h.trusted.Load()
	for _, n := range names {
		if trusted[n] {
			return n, ""
		}
	}
	return "", "client certificate " + describe(cert) + " is not on the trusted client list"
}

// describe names a certificate in logs and refusals: its DNS names, or its
// subject.
func describe(cert *x509.Certificate) string {
	if len(cert.DNSNames) > 0 {
		return strconv.Quote(strings.Join(cert.DNSNames, ","))
	}
	return strconv.Quote(cert.Subject.String())
}

// refuse logs a refused request (at most once a minute per peer IP: see
// refusalLog) and answers it with status and a JSON error.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, client string, status int, reason string) {
	refuse(h.refusal, &h.counts, w, r, client, status, reason)
}

// issued answers r with a credential and counts it.
func (h *Handler) issued(w http.ResponseWriter, r *http.Request, v any) {
	h.counts.count(r, http.StatusOK)
	writeJSON(w, http.StatusOK, v)
}

// refuse logs a refused request to l, counts it in c and answers it with
// status and a JSON error. A 403 or 429 answer closes the connection, so that a client
// that is refused or too fast does not keep a connection slot.
func refuse(l *refusalLog, c *requestCounts, w http.ResponseWriter, r *http.Request, client string, status int, reason string) {
	c.count(r, status)
	l.warn(r.RemoteAddr, "credential service: request refused",
		slog.Int("status", status), slog.String("reason", reason), slog.String("client", client),
		slog.String("peer", r.RemoteAddr), slog.String("method", r.Method), slog.String("path", r.URL.Path))
	if status == http.StatusForbidden || status == http.StatusTooManyRequests {
		w.Header().Set("Connection", "close")
	}
	writeJSON(w, status, errorBody{Error: reason})
}
