package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Limits of the requests of "avedge sessions".
const (
	// adminRequestTimeout bounds one request, answer included.
	adminRequestTimeout = 10 * time.Second
	// maxListAnswer bounds the answer to a list; maxAnswer any other.
	maxListAnswer = 16 << 20
	maxAnswer     = 64 << 10
	// maxErrorText bounds the text of a refusal that is not JSON.
	maxErrorText = 512
)

// Errors of "avedge sessions".
var (
	// errAdminUnreachable: no answer from the admin endpoint.
	errAdminUnreachable = errors.New("cannot reach the admin endpoint")
	// errNoSessionControl: the admin endpoint has no session control
	// paths (an older edge, or one built without them).
	errNoSessionControl = errors.New("no session control")
	// errNoSession: no live session has the ID.
	errNoSession = errors.New("no live session")
	// errNoRevocation: no revocation names the identity.
	errNoRevocation = errors.New("no revocation")
	// errAdminAnswer: another refusal, or an answer that is not one.
	errAdminAnswer = errors.New("the admin endpoint failed")
)

// adminClient sends session control requests to an edge's admin endpoint.
type adminClient struct {
	adminEndpoint
	client *http.Client
}

// newAdminClient returns a client of the admin endpoint a.
func newAdminClient(a adminEndpoint) *adminClient {
	return &adminClient{adminEndpoint: a, client: &http.Client{Timeout: adminRequestTimeout}}
}

// adminCall is one request of an adminClient.
type adminCall struct {
	method string
	// segments are the path's segments after the base URL's, unescaped.
	segments []string
	query    url.Values
	// body, if not nil, is sent as JSON.
	body any
	// limit bounds the answer.
	limit int64
	// notFound is the error for a 404 of the session control paths (an
	// unknown ID or identity).
	notFound error
}

// url returns the request URL of c: each segment is escaped, "." and
// ".." included, so that an identity holding '/' stays one segment.
func (a *adminClient) url(c adminCall) string {
	u := *a.base
	path, raw := strings.TrimSuffix(u.Path, "/"), strings.TrimSuffix(u.EscapedPath(), "/")
	for _, s := range c.segments {
		e := url.PathEscape(s)
		if s == "." || s == ".." {
			e = strings.ReplaceAll(s, ".", "%2E")
		}
		path, raw = path+"/"+s, raw+"/"+e
	}
	u.Path, u.RawPath, u.RawQuery, u.Fragment = path, raw, c.query.Encode(), ""
	return u.String()
}

// do sends c and returns the body of a 200 answer, or an error an operator
// can act on.
func (a *adminClient) do(ctx context.Context, c adminCall) ([]byte, error) {
	var body io.Reader
	if c.body != nil {
		b, err := json.Marshal(c.body)
		if err != nil {
			return nil, fmt.Errorf("encoding the request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, adminRequestTimeout)
	defer cancel()
	target := a.url(c)
	req, err := http.NewRequestWithContext(ctx, c.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", c.method, target, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	a.authorize(req)
	resp, err := a.client.Do(req)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return nil, fmt.Errorf("%w at %s: connection refused (is the edge running, and is admin.listen set?)", errAdminUnreachable, a.base.Redacted())
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("%w at %s: no answer within %v", errAdminUnreachable, a.base.Redacted(), adminRequestTimeout)
	case err != nil:
		return nil, fmt.Errorf("%w at %s: %w", errAdminUnreachable, a.base.Redacted(), err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, c.limit+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %s %s: reading the answer: %w", errAdminAnswer, c.method, target, err)
	case int64(len(answer)) > c.limit:
		return nil, fmt.Errorf("%w: %s %s: the answer is larger than %d bytes", errAdminAnswer, c.method, target, c.limit)
	}
	if resp.StatusCode == http.StatusOK {
		return answer, nil
	}
	msg, isJSON := refusal(resp.Header, answer)
	if err := a.refused(resp.StatusCode, msg); err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound && isJSON && c.notFound != nil:
		return nil, c.notFound
	case resp.StatusCode == http.StatusNotFound && !isJSON:
		return nil, fmt.Errorf("%w at %s: %s %s answered 404 (an edge older than session control?)", errNoSessionControl, a.base.Redacted(), c.method, target)
	}
	return nil, fmt.Errorf("%w: %s %s answered %s: %s", errAdminAnswer, c.method, target, resp.Status, msg)
}

// refusal returns the message of an error answer: the "error" of its JSON,
// or its text, shortened; and whether it was a JSON error.
func refusal(h http.Header, answer []byte) (string, bool) {
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && mt == "application/json" {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(answer, &e) == nil && e.Error != "" {
			return printable(e.Error), true
		}
	}
	text := strings.TrimSpace(string(answer))
	if len(text) > maxErrorText {
		text = text[:maxErrorText] + "…"
	}
	return printable(text), false
}
