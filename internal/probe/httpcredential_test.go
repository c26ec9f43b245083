package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/clock"
)

func TestHTTPCredential(t *testing.T) {
	expiry := time.Date(2025, 3, 1, 13, 0, 0, 0, time.UTC)
	issuer := expiry.Add(-time.Hour)
	user := fmt.Sprintf("%d:alice", expiry.Unix())
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/rest": // TURN REST API shape, with a Date header 2s behind the local clock
			w.Header().Set("Date", issuer.Add(-2*time.Second).Format(http.TimeFormat))
			fmt.Fprintf(w, `{"username":%q,"password":"pw","ttl":3600,"uris":["turn:edge.example.com"]}`, user)
		case "/service": // avedge's answer, without a Date header: expiry less TTL
			w.Header()["Date"] = nil
			fmt.Fprintf(w, `{"username":%q,"password":"pw","ttl":3600,"expires_at":"x","realm":"r","uris":[],"relays":[]}`, user)
		case "/redirect":
			http.Redirect(w, r, "/login", http.StatusFound)
		case "/html":
			fmt.Fprint(w, "<html>login</html>")
		case "/nopassword":
			fmt.Fprintf(w, `{"username":%q}`, user)
		default:
			http.Error(w, "forbidden", http.StatusForbidden)
		}
	}))
	defer ts.Close()
	roots := ts.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	clk := clock.NewFake(issuer)
	fetch := func(path string) (*Credential, error) {
		return HTTPCredential{URL: ts.URL + path, RootCAs: roots, Clock: clk, Timeout: 5 * time.Second}.Credential(context.Background())
	}
	c, err := fetch("/rest")
	if err != nil || c.Username != user || c.Password != "pw" || len(c.URIs) != 1 || c.LocalTime.Sub(c.IssuerTime) != 2*time.Second {
		t.Errorf("REST shape: %+v, %v", c, err)
	}
	c, err = fetch("/service")
	if err != nil || !c.IssuerTime.Equal(issuer) || !c.LocalTime.Equal(issuer) {
		t.Errorf("service shape: %+v, %v", c, err)
	}
	for path, want := range map[string]string{
		"/redirect":   "302 Found, redirected to \"/login\"",
		"/html":       "not JSON",
		"/nopassword": "no username or password",
		"/other":      "403 Forbidden: forbidden",
	} {
		if _, err := fetch(path); !errors.Is(err, ErrCredential) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	for _, u := range []string{"http://example.com/creds", "://", "https://"} {
		if _, err := (HTTPCredential{URL: u}).Credential(context.Background()); !errors.Is(err, ErrCredential) {
			t.Errorf("%q: %v, want ErrCredential", u, err)
		}
	}
	// The system's roots do not know the test server.
	_, err = HTTPCredential{URL: ts.URL + "/rest"}.Credential(context.Background())
	if err == nil || credentialRemedy(err) != "the endpoint's certificate does not verify: give its CA with --ca" {
		t.Errorf("unknown CA: %v (%q)", err, credentialRemedy(err))
	}
}

// TestHTTPCredentialHidesQuery: an API key in the endpoint's query string
// (the TURN REST API's ?key=) shows neither in the credential's source nor
// in a fetch error.
func TestHTTPCredentialHidesQuery(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"username":"1:alice","password":"pw","ttl":3600}`)
	}))
	roots := ts.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	fetch := func(base string) (*Credential, error) {
		return HTTPCredential{URL: base + "/turn?service=turn&key=SECRET-API-KEY", RootCAs: roots, Timeout: 5 * time.Second}.Credential(context.Background())
	}
	c, err := fetch(ts.URL)
	if err != nil || strings.Contains(c.Source, "SECRET") || c.Source != ts.URL+"/turn" {
		t.Fatalf("source %q, %v: want %s/turn", c.Source, err, ts.URL)
	}
	ts.Close() // now nothing listens there
	if _, err := fetch(ts.URL); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("fetch from a closed port: %v", err)
	}
}

func TestCredentialRemedy(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{context.DeadlineExceeded, "internal interface"},
		{syscall.ECONNREFUSED, "nothing listens"},
		{errors.New("x509: certificate signed by unknown authority"), "--ca"},
		{errors.New("credsvc: request refused: 403 Forbidden: not trusted"), "trusted_clients"},
		{errors.New("remote error: tls: bad certificate"), "client CAs"},
		{errors.New("something else"), "curl -v"},
	} {
		if got := credentialRemedy(tc.err); !strings.Contains(got, tc.want) {
			t.Errorf("%v: %q, want %q", tc.err, got, tc.want)
		}
	}
}
