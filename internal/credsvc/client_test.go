package credsvc_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/credsvctest"
)

func TestNewClientOptions(t *testing.T) {
	cert := credsvctest.NewPKI(t, nowForTest()).Client(credsvctest.TrustedApp)
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
			if _, err := credsvc.NewClient(credsvc.ClientOptions{Service: tt.url, Certificate: cert}); !errors.Is(err, credsvc.ErrBadOptions) {
				t.Errorf("NewClient(%q) = %v, want ErrBadOptions", tt.url, err)
			}
		})
	}
	if _, err := credsvc.NewClient(credsvc.ClientOptions{Service: "https://127.0.0.1:5062"}); !errors.Is(err, credsvc.ErrBadOptions) {
		t.Errorf("NewClient without certificate = %v, want ErrBadOptions", err)
	}
}

func TestClient(t *testing.T) {
	s := credsvctest.StartService(t, func(o *credsvc.Options) {
		o.Rate = credsvc.Rate{PerSecond: 0.1, Burst: 2}
		o.Trusted = append(o.Trusted, "limited.example.com")
	}, nil)
	client := func(name string) *credsvc.Client {
		c, err := credsvc.NewClient(credsvc.ClientOptions{Service: s.URL + "/", Certificate: s.PKI.Client(name), RootCAs: s.PKI.CA.Pool()})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	cred, err := client(credsvctest.TrustedApp).Credentials(ctx, credsvc.Request{Identity: "alice", Location: credsvc.Intranet, TTL: "90m"})
	if err != nil {
		t.Fatal(err)
	}
	if cred.TTL != 5400 || len(cred.Relays) != 2 || cred.Relays[0].Location != credsvc.Intranet {
		t.Errorf("credential %+v", cred)
	}

	_, err = client("intruder.example.com").Credentials(ctx, credsvc.Request{Identity: "alice"})
	if !errors.Is(err, credsvc.ErrRefused) || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "not on the trusted client list") {
		t.Errorf("untrusted client: %v", err)
	}

	_, err = client(credsvctest.TrustedApp).Credentials(ctx, credsvc.Request{Identity: strings.Repeat("x", 200)})
	if !errors.Is(err, credsvc.ErrRefused) || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "identity") {
		t.Errorf("bad identity: %v", err)
	}

	limited := client("limited.example.com")
	for range 2 {
		if _, err := limited.Credentials(ctx, credsvc.Request{Identity: "a"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = limited.Credentials(ctx, credsvc.Request{Identity: "a"})
	if !errors.Is(err, credsvc.ErrRefused) || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "retry after 10s") {
		t.Errorf("rate limited: %v", err)
	}

	// A client that does not trust the service's certificate stops at the
	// handshake.
	other := credsvctest.NewPKI(t, nowForTest())
	c, err := credsvc.NewClient(credsvc.ClientOptions{Service: s.URL, Certificate: s.PKI.Client(credsvctest.TrustedApp), RootCAs: other.CA.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Credentials(ctx, credsvc.Request{Identity: "a"}); err == nil || errors.Is(err, credsvc.ErrRefused) || !strings.Contains(err.Error(), "certificate") {
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
		{"not JSON", 200, "text/html", "<html>", credsvc.ErrBadResponse},
		{"invalid JSON", 200, "application/json", "{", credsvc.ErrBadResponse},
		{"no password", 200, "application/json", `{"username":"1:a"}`, credsvc.ErrBadResponse},
		{"too large", 200, "application/json", `{"username":"` + strings.Repeat("x", 70<<10) + `"}`, credsvc.ErrBadResponse},
		{"error without JSON body", 503, "application/json", "down", credsvc.ErrRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer ts.Close()
			c, err := credsvc.NewClient(credsvc.ClientOptions{Service: ts.URL, Certificate: credsvctest.NewPKI(t, nowForTest()).Client(credsvctest.TrustedApp), RootCAs: credsvctest.Pool(ts.Certificate())})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Credentials(context.Background(), credsvc.Request{Identity: "a"}); !errors.Is(err, tt.want) {
				t.Errorf("Credentials = %v, want %v", err, tt.want)
			}
		})
	}
}
