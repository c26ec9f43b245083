package credsvc

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// turnCredentials answers GET /v1/turn-credentials in the TURN REST API
// shape (draft-uberti-behave-turn-rest-00): the query names the user
// ("username", the identity) and optionally "ttl" in seconds; "service"
// must be "turn" when present, and "key" (an API key) is ignored, since the
// client certificate authenticates the caller. "location" selects the
// relays, as in POST /v1/credentials. Other parameters are refused.
func (h *Handler) turnCredentials(w http.ResponseWriter, r *http.Request, client string) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		h.refuse(w, r, client, http.StatusBadRequest, "query: "+err.Error())
		return
	}
	for k, v := range q {
		switch {
		case k != "username" && k != "ttl" && k != "service" && k != "key" && k != "location":
			h.refuse(w, r, client, http.StatusBadRequest, "query: unknown parameter "+strconv.Quote(k))
			return
		case len(v) > 1:
			h.refuse(w, r, client, http.StatusBadRequest, "query: parameter "+strconv.Quote(k)+" given more than once")
			return
		}
	}
	if q.Get("username") == "" {
		h.refuse(w, r, client, http.StatusBadRequest, "query: username (the identity the credential is for) is required")
		return
	}
	if s, ok := q["service"]; ok && s[0] != "turn" {
		h.refuse(w, r, client, http.StatusBadRequest, "query: service must be \"turn\"")
		return
	}
	loc := Location(q.Get("location"))
	if loc == "" {
		loc = Internet
	}
	if !loc.Valid() {
		h.refuse(w, r, client, http.StatusBadRequest, "query: location must be \"internet\" or \"intranet\"")
		return
	}
	ttl := h.opts.MaxTTL
	if s := q.Get("ttl"); s != "" {
		// A number too large for 64 bits is a TTL beyond the maximum: cut
		// it, as any other.
		n, err := strconv.ParseUint(s, 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			n, err = math.MaxUint64, nil
		}
		if err != nil || n < 1 {
			h.refuse(w, r, client, http.StatusBadRequest, "query: ttl must be a whole number of seconds, at least 1")
			return
		}
		if n < uint64(h.opts.MaxTTL/time.Second) {
			ttl = time.Duration(n) * time.Second
		}
	}
	c, ok := h.issueOrRefuse(w, r, client, q.Get("username"), loc, ttl)
	if !ok {
		return
	}
	h.issued(w, r, RESTCredential{Username: c.Username, Password: c.Password, TTL: c.TTL, URIs: uris(c.Relays)})
}
