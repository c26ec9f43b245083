package credsvc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// maxBody bounds a request body; a valid one needs a few hundred bytes.
const maxBody = 4 << 10

// credentials answers POST /v1/credentials.
func (h *Handler) credentials(w http.ResponseWriter, r *http.Request, client string) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		h.refuse(w, r, client, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	req, status, reason := decodeRequest(w, r)
	if status != 0 {
		h.refuse(w, r, client, status, reason)
		return
	}
	loc := req.Location
	if loc == "" {
		loc = Internet
	}
	if !loc.Valid() {
		h.refuse(w, r, client, http.StatusBadRequest, "location: must be \"internet\" or \"intranet\"")
		return
	}
	ttl := h.opts.MaxTTL
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil || d < time.Second {
			h.refuse(w, r, client, http.StatusBadRequest, "ttl: must be a duration of at least 1s, such as \"8h\" or \"90m\"")
			return
		}
		ttl = d
	}
	c, ok := h.issueOrRefuse(w, r, client, req.Identity, loc, ttl)
	if !ok {
		return
	}
	h.issued(w, r, Credential{
		Username:  c.Username,
		Password:  c.Password,
		TTL:       c.TTL,
		ExpiresAt: c.Expires.Format(time.RFC3339),
		Realm:     h.opts.Realm,
		URIs:      uris(c.Relays),
		Relays:    c.Relays,
	})
}

// decodeRequest reads exactly one JSON object of at most maxBody bytes
// of valid UTF-8, with only the fields of Request, each at most once
// (also without regard to case). On failure it returns the status and
// reason of the refusal.
func decodeRequest(w http.ResponseWriter, r *http.Request) (Request, int, string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return Request{}, http.StatusRequestEntityTooLarge, "body: larger than " + strconv.Itoa(maxBody) + " bytes"
	}
	switch {
	case err != nil:
		return Request{}, http.StatusBadRequest, "body: " + err.Error()
	case len(bytes.TrimSpace(body)) == 0:
		return Request{}, http.StatusBadRequest, "body: empty; send a JSON object such as {\"identity\": \"alice\"}"
	case !utf8.Valid(body):
		// encoding/json would quietly replace invalid bytes with U+FFFD.
		return Request{}, http.StatusBadRequest, "body: not valid UTF-8"
	}
	if err := checkKeys(body); err != nil {
		return Request{}, http.StatusBadRequest, "body: " + err.Error()
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var req Request
	if err := dec.Decode(&req); err != nil {
		return Request{}, http.StatusBadRequest, "body: invalid JSON: " + err.Error()
	}
	// Anything but the end of the body after the object is refused.
	var next json.RawMessage
	switch err := dec.Decode(&next); {
	case err == io.EOF:
		return req, 0, ""
	case err == nil:
		return Request{}, http.StatusBadRequest, "body: more than one JSON value"
	default:
		return Request{}, http.StatusBadRequest, "body: invalid JSON: " + err.Error()
	}
}

// issueOrRefuse issues a credential, or refuses the request with the
// reason and reports false.
func (h *Handler) issueOrRefuse(w http.ResponseWriter, r *http.Request, client, identity string, loc Location, ttl time.Duration) (Issued, bool) {
	c, err := h.issue(client, identity, loc, ttl)
	if err == nil {
		return c, true
	}
	reason, internal := SignRefusal(err, loc)
	status := http.StatusBadRequest
	if internal {
		status = http.StatusInternalServerError
	}
	h.refuse(w, r, client, status, reason)
	return Issued{}, false
}
