package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/avedge/avedge/internal/sessions"
)

// The first path segments of session control.
const (
	segSessions    = "sessions"
	segRevocations = "revocations"
)

// Limits of session control.
const (
	// maxRevokeBody bounds the body of POST /revocations.
	maxRevokeBody = 4 << 10
	// controlTimeout bounds one call of the Controller.
	controlTimeout = 5 * time.Second
)

// sessionRoute is a request path under session control: its first segment
// and, after a slash, the percent-decoded rest (a session ID or an
// identity, which may hold '/').
type sessionRoute struct {
	collection string
	item       string
	hasItem    bool
}

// parseSessionRoute returns u's session control route, false if u's path
// is not under /sessions or /revocations.
func parseSessionRoute(u *url.URL) (sessionRoute, bool) {
	first, rest, hasItem := strings.Cut(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	collection, err := url.PathUnescape(first)
	if err != nil || (collection != segSessions && collection != segRevocations) {
		return sessionRoute{}, false
	}
	item, err := url.PathUnescape(rest)
	if err != nil {
		return sessionRoute{}, false
	}
	return sessionRoute{collection: collection, item: item, hasItem: hasItem}, true
}

// serveSessions answers the session control paths of a request that
// passed guard: 404 without a Controller, 405 to a method the path does
// not take.
func (s *Server) serveSessions(w http.ResponseWriter, r *http.Request, rt sessionRoute) {
	if s.control == nil {
		http.NotFound(w, r)
		return
	}
	switch {
	case rt.hasItem && rt.item == "":
		writeError(w, http.StatusNotFound, "not found")
	case rt.collection == segSessions && !rt.hasItem:
		if r.Method != http.MethodGet {
			writeMethodNotAllowed(w, http.MethodGet)
			return
		}
		s.listSessions(w, r)
	case rt.collection == segSessions:
		if r.Method != http.MethodDelete {
			writeMethodNotAllowed(w, http.MethodDelete)
			return
		}
		s.endSession(w, r, rt.item)
	case !rt.hasItem: // /revocations
		switch r.Method {
		case http.MethodGet:
			s.listRevocations(w, r)
		case http.MethodPost:
			s.revoke(w, r)
		default:
			writeMethodNotAllowed(w, "GET, POST")
		}
	default: // /revocations/{identity}
		if r.Method != http.MethodDelete {
			writeMethodNotAllowed(w, http.MethodDelete)
			return
		}
		s.lift(w, r, rt.item)
	}
}

// queryParams parses r's query, which may hold each of allowed at most
// once and nothing else.
func queryParams(r *http.Request, allowed ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("malformed query: %w", err)
	}
	for k, v := range q {
		switch {
		case !slices.Contains(allowed, k):
			return nil, fmt.Errorf("unknown query parameter %q", k)
		case len(v) > 1:
			return nil, fmt.Errorf("query parameter %q given %d times", k, len(v))
		}
	}
	return q, nil
}

// listSessions answers GET /sessions?user=U&identity=I with
// {"sessions": [...]}.
func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	q, err := queryParams(r, "user", "identity")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), controlTimeout)
	defer cancel()
	list, err := s.control.List(ctx, sessions.Filter{User: q.Get("user"), Identity: q.Get("identity")})
	if err != nil {
		s.controlError(w, r, "listing sessions", err, "")
		return
	}
	if list == nil {
		list = []sessions.Session{}
	}
	writeJSON(w, http.StatusOK, struct {
		Sessions []sessions.Session `json:"sessions"`
	}{list})
}

// endSession answers DELETE /sessions/{id} with {"ended": id}.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request, id string) {
	if _, err := queryParams(r); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), controlTimeout)
	defer cancel()
	if err := s.control.End(ctx, id); err != nil {
		s.controlError(w, r, "ending a session", err, fmt.Sprintf("no live session %q", id))
		return
	}
	s.log.Info("session ended on the admin endpoint", "remote", r.RemoteAddr, "id", id)
	writeJSON(w, http.StatusOK, struct {
		Ended string `json:"ended"`
	}{id})
}

// revokeRequest is the body of POST /revocations.
type revokeRequest struct {
	Identity string `json:"identity"`
	// Until is an RFC 3339 time; empty: until lifted.
	Until string `json:"until"`
}

// revoke answers POST /revocations with {"revocation": {...},
// "ended_sessions": N}. The body must be JSON (Content-Type
// application/json, which a browser cannot send across origins without
// asking first), at most 4 KiB, with no unknown field.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if _, err := queryParams(r); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "the body must be JSON, with Content-Type application/json")
		return
	}
	req, code, err := decodeRevoke(w, r)
	if err != nil {
		writeError(w, code, err.Error())
		return
	}
	var until time.Time
	if req.Until != "" {
		if until, err = time.Parse(time.RFC3339, req.Until); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("until %q is not an RFC 3339 time such as 2030-01-02T15:04:05Z", req.Until))
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), controlTimeout)
	defer cancel()
	rev, ended, err := s.control.Revoke(ctx, req.Identity, until)
	if err != nil {
		s.controlError(w, r, "revoking an identity", err, "")
		return
	}
	s.log.Info("identity revoked on the admin endpoint", "remote", r.RemoteAddr, "identity", rev.Identity, "until", untilText(rev.Until), "ended_sessions", ended)
	writeJSON(w, http.StatusOK, struct {
		Revocation sessions.Revocation `json:"revocation"`
		Ended      int                 `json:"ended_sessions"`
	}{rev, ended})
}

// untilText is a revocation's Until for the log.
func untilText(until time.Time) string {
	if until.IsZero() {
		return "lifted"
	}
	return until.UTC().Format(time.RFC3339)
}

// decodeRevoke reads the body of POST /revocations; on failure it returns
// the status to answer (413 or 400) and why.
func decodeRevoke(w http.ResponseWriter, r *http.Request) (revokeRequest, int, error) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRevokeBody))
	dec.DisallowUnknownFields()
	var req revokeRequest
	err := dec.Decode(&req)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("data after the JSON object")
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return req, http.StatusRequestEntityTooLarge, fmt.Errorf("body larger than %d bytes", maxRevokeBody)
	case err != nil:
		return req, http.StatusBadRequest, fmt.Errorf("invalid body: %w", err)
	}
	return req, 0, nil
}

// listRevocations answers GET /revocations with {"revocations": [...]}.
func (s *Server) listRevocations(w http.ResponseWriter, r *http.Request) {
	if _, err := queryParams(r); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	list := s.control.Revocations()
	if list == nil {
		list = []sessions.Revocation{}
	}
	writeJSON(w, http.StatusOK, struct {
		Revocations []sessions.Revocation `json:"revocations"`
	}{list})
}

// lift answers DELETE /revocations/{identity} with {"lifted": identity}.
func (s *Server) lift(w http.ResponseWriter, r *http.Request, identity string) {
	if _, err := queryParams(r); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.control.Lift(identity); err != nil {
		s.controlError(w, r, "lifting a revocation", err, fmt.Sprintf("no revocation of %q", identity))
		return
	}
	s.log.Info("revocation lifted on the admin endpoint", "remote", r.RemoteAddr, "identity", identity)
	writeJSON(w, http.StatusOK, struct {
		Lifted string `json:"lifted"`
	}{identity})
}

// controlError answers a Controller's err: 404 with notFound (err's text
// if empty), 400 with err's text, 503 or 500 with a fixed message (the
// error, logged, may name files or internals).
func (s *Server) controlError(w http.ResponseWriter, r *http.Request, op string, err error, notFound string) {
	switch {
	case errors.Is(err, sessions.ErrNotFound):
		if notFound == "" {
			notFound = err.Error()
		}
		writeError(w, http.StatusNotFound, notFound)
	case errors.Is(err, sessions.ErrBadIdentity), errors.Is(err, sessions.ErrBadRequest):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, sessions.ErrUnavailable):
		s.log.Warn("session control unavailable", "op", op, "remote", r.RemoteAddr, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the relay did not answer in time or the revocations could not be stored; try again")
	default:
		s.log.Error("session control failed", "op", op, "remote", r.RemoteAddr, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}
