package credsvc

import (
	"bufio"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServerStats: requests over loopback are counted by endpoint and
// outcome, those the Server refuses itself (a client certificate that no
// longer verifies) included.
func TestServerStats(t *testing.T) {
	s := startService(t, nil, nil)
	app := s.httpClient(s.pki.client(trustedApp))
	intruder := s.httpClient(s.pki.client("intruder.example.com"))
	send := func(c *http.Client, method, path, contentType, body string) {
		t.Helper()
		req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	send(app, http.MethodPost, CredentialsPath, "application/json", `{"identity":"alice"}`)
	send(app, http.MethodPost, CredentialsPath, "application/json", `{"identity":"bob"}`)
	send(app, http.MethodGet, TURNCredentialsPath+"?service=turn&username=alice", "", "")
	send(app, http.MethodPost, CredentialsPath, "application/json", `{"identity":""}`)
	send(app, http.MethodGet, TURNCredentialsPath+"?service=stun&username=alice", "", "")
	send(app, http.MethodGet, CredentialsPath, "", "")
	send(app, http.MethodPost, CredentialsPath, "text/plain", `{"identity":"alice"}`)
	send(app, http.MethodPost, CredentialsPath, "application/json", strings.Repeat(" ", maxBody+1))
	send(app, http.MethodGet, "/v1/other", "", "")
	send(intruder, http.MethodPost, CredentialsPath, "application/json", `{"identity":"alice"}`)

	// A kept-alive connection whose CA was removed: the Server refuses it.
	conn, err := tls.Dial("tcp", s.srv.Addr().String(), s.tlsConfig(s.pki.client(trustedApp)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	rawRequest(t, conn, br, `{"identity":"a"}`)
	if err := s.srv.SetCertificates(s.pki.server(), newTestPKI(t, s.clk.Now()).ca.Pool()); err != nil {
		t.Fatal(err)
	}
	rawRequest(t, conn, br, `{"identity":"a"}`)

	want := Stats{}
	want.Requests[EndpointCredentials][OutcomeIssued] = 3
	want.Requests[EndpointTURNCredentials][OutcomeIssued] = 1
	want.Requests[EndpointCredentials][OutcomeBadRequest] = 1
	want.Requests[EndpointTURNCredentials][OutcomeBadRequest] = 1
	want.Requests[EndpointCredentials][OutcomeMethodNotAllowed] = 1
	want.Requests[EndpointCredentials][OutcomeUnsupportedMediaType] = 1
	want.Requests[EndpointCredentials][OutcomeBodyTooLarge] = 1
	want.Requests[EndpointOther][OutcomeNotFound] = 1
	want.Requests[EndpointCredentials][OutcomeUntrustedClient] = 2
	if got := s.srv.Stats(); got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
	if got := s.handler.Stats(); got.Count(EndpointCredentials, OutcomeUntrustedClient) != 1 {
		t.Fatalf("the Handler counted %d untrusted requests, want 1 (the other is the Server's)",
			got.Count(EndpointCredentials, OutcomeUntrustedClient))
	}
}

// TestHandlerStatsRateLimited: requests over the client's rate are counted
// as rate_limited.
func TestHandlerStatsRateLimited(t *testing.T) {
	e := newHandlerEnv(t, func(o *Options) { o.Rate = Rate{PerSecond: 1, Burst: 1} })
	for range 3 {
		e.post(`{"identity":"alice"}`)
	}
	st := e.h.Stats()
	if st.Count(EndpointCredentials, OutcomeIssued) != 1 || st.Count(EndpointCredentials, OutcomeRateLimited) != 2 {
		t.Fatalf("Stats = %+v, want 1 issued and 2 rate limited", st)
	}
}

// TestOutcomeNames: every endpoint and outcome has a distinct name.
func TestOutcomeNames(t *testing.T) {
	seen := map[string]bool{}
	for e := range Endpoint(endpoints) {
		for o := range Outcome(outcomes) {
			name := e.String() + "/" + o.String()
			if strings.Contains(name, "unknown") || seen[name] {
				t.Errorf("%d/%d: name %q unknown or repeated", e, o, name)
			}
			seen[name] = true
		}
	}
	if Endpoint(endpoints).String() != "unknown" || Outcome(outcomes).String() != "unknown" {
		t.Error("out-of-range values are not unknown")
	}
}
