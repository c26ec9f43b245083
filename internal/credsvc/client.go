package credsvc

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ClientOptions configure a Client.
type ClientOptions struct {
	// Service is the service's base URL, such as
	// "https://edge.internal:5062"; it must use https.
	Service string
	// Certificate is the client certificate and key that identify the
	// caller.
	Certificate tls.Certificate
	// RootCAs verify the service's certificate; nil means the system's.
	RootCAs *x509.CertPool
	// Timeout bounds a whole request; 0 means 10s.
	Timeout time.Duration
}

// maxResponse bounds the answer read from the service.
const maxResponse = 64 << 10

// Client asks a credential service for credentials, over mutually
// authenticated TLS. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	http    *http.Client
	tls     *tls.Config // for DialTLS
	timeout time.Duration
}

// NewClient checks opts and returns a Client (ErrBadOptions).
func NewClient(opts ClientOptions) (*Client, error) {
	u, err := url.Parse(opts.Service)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: service URL: %w", ErrBadOptions, err)
	case u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("%w: service URL %q: must be https://host[:port]", ErrBadOptions, opts.Service)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("%w: service URL %q: no user, query or fragment", ErrBadOptions, opts.Service)
	case len(opts.Certificate.Certificate) == 0:
		return nil, fmt.Errorf("%w: no client certificate", ErrBadOptions)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	tc := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{opts.Certificate},
		RootCAs:      opts.RootCAs,
	}
	return &Client{
		base:    u,
		tls:     tc.Clone(), // the Transport may add ALPN protocols to its own
		timeout: timeout,
		http: &http.Client{
			Timeout: timeout,
			Transport: &http.Transport{
				TLSClientConfig:     tc,
				TLSHandshakeTimeout: timeout,
				DisableCompression:  true,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// Credentials asks for a credential (POST /v1/credentials). A refusal is
// ErrRefused with the status and the service's reason.
func (c *Client) Credentials(ctx context.Context, req Request) (*Credential, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("credsvc: %w", err)
	}
	u := c.base.JoinPath(CredentialsPath)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("credsvc: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("credsvc: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("credsvc: read response: %w", err)
	case len(b) > maxResponse:
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadResponse, maxResponse)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return nil, fmt.Errorf("%w: %s with Content-Type %q", ErrBadResponse, resp.Status, resp.Header.Get("Content-Type"))
	}
	if resp.StatusCode != http.StatusOK {
		var e errorBody
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			e.Error += " (retry after " + ra + "s)"
		}
		return nil, fmt.Errorf("%w: %s: %s", ErrRefused, resp.Status, e.Error)
	}
	var cred Credential
	if err := json.Unmarshal(b, &cred); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	if cred.Username == "" || cred.Password == "" {
		return nil, fmt.Errorf("%w: no username or password", ErrBadResponse)
	}
	return &cred, nil
}

// DialTLS connects to the service's port over mutual TLS, as the HTTP
// requests do, for a dialect spoken on the same port (mras.Ask). ctx
// bounds the connecting; the connection's deadline is the client's
// timeout from now, which bounds the exchange.
func (c *Client) DialTLS(ctx context.Context) (*tls.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	d := tls.Dialer{Config: c.tls}
	conn, err := d.DialContext(ctx, "tcp", c.base.Host)
	if err != nil {
		return nil, fmt.Errorf("credsvc: %w", err)
	}
	_ = conn.SetDeadline(time.Now().Add(c.timeout))
	return conn.(*tls.Conn), nil
}
