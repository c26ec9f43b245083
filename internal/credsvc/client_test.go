package credsvc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNewClientOptions(t *testing.T) {
	cert := newTestPKI(t, nowForTest()).client(trustedApp)
	for _, tt := range []struct{ name, url string }{
		{"http", "http://127.0.0.1:5062"},
		{"no scheme", "127.0.0.1:5062"},
		{"no host", "https://"},
		{"query", "https://127.0.0.1:5062/?a=b"},
		{"fragment", "https://127.0.0.1:5062/#x"},
		{"user", "https://u:p@127.0.0.1:5062"},
		{"unparsable", "https://[::1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewClient(ClientOptions{Service: tt.url, Certificate: cert}); !errors.Is(err, ErrBadOptions) {
				t.Errorf("NewClient(%q) = %v, want ErrBadOptions", tt.url, err)
			}
		})
	}
	if _, err := NewClient(ClientOptions{Service: "https://127.0.0.1:5062"}); !errors.Is(err, ErrBadOptions) {
		t.Errorf("NewClient without certificate = %v, want ErrBadOptions", err)
	}
}

func TestClient(t *testing.T) {
	s := startService(t, func(o *Options) {
		o.Rate = Rate{PerSecond: 0.1, Burst: 2}
		o.Trusted = append(o.Trusted, "limited.example.com")
	}, nil)
	client := func(name string) *Client {
		c, err := NewClient(ClientOptions{Service: s.url + "/", Certificate: s.pki.client(name), RootCAs: s.pki.ca.Pool()})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	cred, err := client(trustedApp).Credentials(ctx, Request{Identity: "alice", Location: Intranet, TTL: "90m"})
	if err != nil {
		t.Fatal(err)
	}
	if cred.TTL != 5400 || len(cred.Relays) != 2 || cred.Relays[0].Location != Intranet {
		t.Errorf("credential %+v", cred)
	}

	_, err = client("intruder.example.com").Credentials(ctx, Request{Identity: "alice"})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "not on the trusted client list") {
		t.Errorf("untrusted client: %v", err)
	}

	_, err = client(trustedApp).Credentials(ctx, Request{Identity: strings.Repeat("x", 200)})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "identity") {
		t.Errorf("bad identity: %v", err)
	}

	limited := client("limited.example.com")
	for range 2 {
		if _, err := limited.Credentials(ctx, Request{Identity: "a"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = limited.Credentials(ctx, Request{Identity: "a"})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "retry after 10s") {
		t.Errorf("rate limited: %v", err)
	}

	// A client that does not trust the service's certificate stops at the
	// handshake.
	other := newTestPKI(t, nowForTest())
	c, err := NewClient(ClientOptions{Service: s.url, Certificate: s.pki.client(trustedApp), RootCAs: other.ca.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Credentials(ctx, Request{Identity: "a"}); err == nil || errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted service: %v", err)
	}
}

func TestClientBadResponses(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        error
	}{
		{"not JSON", 200, "text/html", "<html>", ErrBadResponse},
		{"invalid JSON", 200, "application/json", "{", ErrBadResponse},
		{"no password", 200, "application/json", `{"username":"1:a"}`, ErrBadResponse},
		{"too large", 200, "application/json", `{"username":"` + strings.Repeat("x", 70<<10) + `"}`, ErrBadResponse},
		{"error without JSON body", 503, "application/json", "down", ErrRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer ts.Close()
			c, err := NewClient(ClientOptions{Service: ts.URL, Certificate: newTestPKI(t, nowForTest()).client(trustedApp), RootCAs: pool(ts.Certificate())})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Credentials(context.Background(), Request{Identity: "a"}); !errors.Is(err, tt.want) {
				t.Errorf("Credentials = %v, want %v", err, tt.want)
			}
		})
	}
}
