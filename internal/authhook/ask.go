package authhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/avedge/avedge/internal/auth"
)

// MaxBodySize bounds the service's answer: a longer body is a failure.
const MaxBodySize = 16 << 10

// query is the JSON body of a lookup.
type query struct {
	Username  string `json:"username"`
	Realm     string `json:"realm"`
	Client    string `json:"client"`
	Transport string `json:"transport"`
}

// answer is the JSON body of a 200 answer: one of the two.
type answer struct {
	Password string `json:"password"`
	HA1      string `json:"ha1"`
}

// ask makes one lookup and returns its credential, or its outcome and the
// error of a refusal (matching ErrRefused). Errors never hold the body,
// which may hold a password.
func (c *Client) ask(q auth.HookQuery) (auth.Credential, Outcome, error) {
	body, err := json.Marshal(query{Username: q.Username, Realm: q.Realm, Client: clientString(q.Client), Transport: q.Transport})
	if err != nil {
		return auth.Credential{}, Error, fmt.Errorf("%w: %w: %w", ErrRefused, ErrFailed, err)
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return auth.Credential{}, Error, fmt.Errorf("%w: %w: %w", ErrRefused, ErrFailed, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "avedge-auth-webhook")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if isTimeout(err) {
			return auth.Credential{}, Timeout, fmt.Errorf("%w: %w: timed out after %s", ErrRefused, ErrFailed, c.timeout)
		}
		return auth.Credential{}, Error, fmt.Errorf("%w: %w: %w", ErrRefused, ErrFailed, withoutURL(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodySize+1))
	switch {
	case err != nil && isTimeout(err):
		return auth.Credential{}, Timeout, fmt.Errorf("%w: %w: timed out after %s", ErrRefused, ErrFailed, c.timeout)
	case err != nil:
		return auth.Credential{}, Error, fmt.Errorf("%w: %w: reading the answer: %w", ErrRefused, ErrFailed, err)
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusNotFound:
		return auth.Credential{}, Refused, fmt.Errorf("%w: status %d", ErrRefused, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return auth.Credential{}, Error, fmt.Errorf("%w: %w: status %d", ErrRefused, ErrFailed, resp.StatusCode)
	case len(b) > MaxBodySize:
		return auth.Credential{}, Error, fmt.Errorf("%w: %w: answer longer than %d bytes", ErrRefused, ErrFailed, MaxBodySize)
	}
	cred, err := parseAnswer(b)
	if err != nil {
		return auth.Credential{}, Error, fmt.Errorf("%w: %w: %w", ErrRefused, ErrFailed, err)
	}
	return cred, Allowed, nil
}

// parseAnswer reads a 200 answer: {"password": "..."} or {"ha1":
// "<32 hex digits>"} (optionally "0x"-prefixed), exactly one of them.
func parseAnswer(b []byte) (auth.Credential, error) {
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		return auth.Credential{}, errors.New("answer is not the expected JSON object")
	}
	switch {
	case a.Password != "" && a.HA1 != "":
		return auth.Credential{}, errors.New("answer holds both password and ha1")
	case a.Password != "":
		return auth.Credential{Password: a.Password}, nil
	case a.HA1 != "":
		key, ok := auth.ParseHA1(a.HA1)
		if !ok {
			return auth.Credential{}, errors.New("answer's ha1 is not 32 hexadecimal digits")
		}
		return auth.Credential{HA1: key}, nil
	}
	return auth.Credential{}, errors.New("answer holds neither password nor ha1")
}

// clientString is the client address as "ip:port" ("" when unknown).
func clientString(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// isTimeout reports whether err is the end of the lookup's time.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// withoutURL is err without the *url.Error wrapper that repeats the
// method and URL (whose query might hold a secret).
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// IsLoopback reports whether host (a URL's host name) is a loopback
// address or "localhost": plain http is allowed to it, since the traffic
// stays on the host (a sidecar).
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
