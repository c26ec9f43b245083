package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
)

// maxCredentialBody bounds the answer read from a credential endpoint.
const maxCredentialBody = 64 << 10

// HTTPCredential fetches a credential with GET from an HTTPS endpoint that
// answers JSON with "username" and "password", such as the TURN REST API
// shape {"username","password","ttl","uris"} or avedge's credential
// service's answer, which adds "realm", "expires_at" and "relays".
type HTTPCredential struct {
	// URL is the endpoint; it must use https.
	URL string
	// RootCAs verify the endpoint's certificate; nil means the system's.
	RootCAs *x509.CertPool
	// Timeout bounds the request; 0 means 5s.
	Timeout time.Duration
	// Clock tells the local time; nil means the wall clock.
	Clock clock.Clock
}

// restAnswer is the part of a credential answer the probe reads.
type restAnswer struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	TTL      int64    `json:"ttl"`
	URIs     []string `json:"uris"`
}

// Credential implements CredentialSource.
func (h HTTPCredential) Credential(ctx context.Context) (*Credential, error) {
	u, err := url.Parse(h.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%w: %q: want an https:// URL", ErrCredential, h.URL)
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	clk := h.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	transport := &http.Transport{
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: h.RootCAs, Time: clk.Now},
		TLSHandshakeTimeout: timeout,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Timeout:       timeout,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCredential, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		// The URL of a *url.Error may carry an API key in its query.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			ue.URL = publicURL(u)
		}
		return nil, fmt.Errorf("%w: %w", ErrCredential, err)
	}
	defer resp.Body.Close()
	local := clk.Now()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCredentialBody+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: read answer: %w", ErrCredential, err)
	case len(body) > maxCredentialBody:
		return nil, fmt.Errorf("%w: answer larger than %d bytes", ErrCredential, maxCredentialBody)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, fmt.Errorf("%w: %s, redirected to %q (a login page?)", ErrCredential, resp.Status, resp.Header.Get("Location"))
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: %s: %s", ErrCredential, resp.Status, snippet(body))
	}
	var a restAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("%w: answer is not JSON (%w): %s", ErrCredential, err, snippet(body))
	}
	if a.Username == "" || a.Password == "" {
		return nil, fmt.Errorf("%w: answer has no username or password", ErrCredential)
	}
	c := &Credential{Username: a.Username, Password: a.Password, URIs: a.URIs, Source: publicURL(u)}
	// RFC 9110 §6.6.1: Date is the origin's clock when it answered.
	if date, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		c.IssuerTime, c.LocalTime = date, local
	} else {
		c.IssuerTime, c.LocalTime = issuedAt(a.Username, a.TTL), local
	}
	return c, nil
}

// publicURL is u without user information, query or fragment: the parts
// of a credential endpoint's URL that may hold a secret, such as the API
// key of a TURN REST API request.
func publicURL(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// issuedAt estimates the issuer's clock from an ephemeral username's
// expiry less the TTL it granted; zero when either is unknown.
func issuedAt(username string, ttl int64) time.Time {
	expiry, _, err := auth.ParseUsername(username)
	if err != nil || ttl <= 0 {
		return time.Time{}
	}
	return expiry.Add(-time.Duration(ttl) * time.Second)
}

// snippet returns the start of an error body, on one line.
func snippet(b []byte) string {
	const n = 200
	s := strings.Join(strings.Fields(string(b[:min(len(b), n)])), " ")
	if len(b) > n {
		s += " …"
	}
	return s
}
