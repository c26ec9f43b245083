package credsvc_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/credsvctest"
)

// TestServerStats: requests over loopback are counted by endpoint and
// outcome, those the Server refuses itself (a client certificate that no
// longer verifies) included.
func TestServerStats(t *testing.T) {
	s := credsvctest.StartService(t, nil, nil)
	app := s.HTTPClient(s.PKI.Client(credsvctest.TrustedApp))
	intruder := s.HTTPClient(s.PKI.Client("intruder.example.com"))
	send := func(c *http.Client, method, path, contentType, body string) {
		t.Helper()
		req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
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
	send(app, http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"alice"}`)
	send(app, http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"bob"}`)
	send(app, http.MethodGet, credsvc.TURNCredentialsPath+"?service=turn&username=alice", "", "")
	send(app, http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":""}`)
	send(app, http.MethodGet, credsvc.TURNCredentialsPath+"?service=stun&username=alice", "", "")
	send(app, http.MethodGet, credsvc.CredentialsPath, "", "")
	send(app, http.MethodPost, credsvc.CredentialsPath, "text/plain", `{"identity":"alice"}`)
	send(app, http.MethodPost, credsvc.CredentialsPath, "application/json", strings.Repeat(" ", credsvc.MaxBody+1))
	send(app, http.MethodGet, "/v1/other", "", "")
	send(intruder, http.MethodPost, credsvc.CredentialsPath, "application/json", `{"identity":"alice"}`)

	// A kept-alive connection whose CA was removed: the Server refuses it.
	conn, err := tls.Dial("tcp", s.Server.Addr().String(), s.TLSConfig(s.PKI.Client(credsvctest.TrustedApp)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	rawRequest(t, conn, br, `{"identity":"a"}`)
	if err := s.Server.SetCertificates(s.PKI.Server(), credsvctest.NewPKI(t, s.Clock.Now()).CA.Pool()); err != nil {
		t.Fatal(err)
	}
	rawRequest(t, conn, br, `{"identity":"a"}`)

	want := credsvc.Stats{}
	want.Requests[credsvc.EndpointCredentials][credsvc.OutcomeIssued] = 3
	want.Requests[credsvc.EndpointTURNCredentials][credsvc.OutcomeIssued] = 1
	want.Requests[credsvc.EndpointCredentials][credsvc.OutcomeBadRequest] = 1
	want.Requests[credsvc.EndpointTURNCredentials][credsvc.OutcomeBadRequest] = 1
	want.Requests[credsvc.EndpointCredentials][credsvc.OutcomeMethodNotAllowed] = 1
	want.Requests[credsvc.EndpointCredentials][credsvc.OutcomeUnsupportedMediaType] = 1
	want.Requests[credsvc.EndpointCredentials][credsvc.OutcomeBodyTooLarge] = 1
	want.Requests[credsvc.EndpointOther][credsvc.OutcomeNotFound] = 1
	want.Requests[credsvc.EndpointCredentials][credsvc.OutcomeUntrustedClient] = 2
	if got := s.Server.Stats(); got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
	if got := s.Handler.Stats(); got.Count(credsvc.EndpointCredentials, credsvc.OutcomeUntrustedClient) != 1 {
		t.Fatalf("the Handler counted %d untrusted requests, want 1 (the other is the Server's)",
			got.Count(credsvc.EndpointCredentials, credsvc.OutcomeUntrustedClient))
	}
}

// TestHandlerStatsRateLimited: requests over the client's rate are counted
// as rate_limited.
func TestHandlerStatsRateLimited(t *testing.T) {
	e := newHandlerEnv(t, func(o *credsvc.Options) { o.Rate = credsvc.Rate{PerSecond: 1, Burst: 1} })
	for range 3 {
		e.post(`{"identity":"alice"}`)
	}
	st := e.Handler.Stats()
	if st.Count(credsvc.EndpointCredentials, credsvc.OutcomeIssued) != 1 || st.Count(credsvc.EndpointCredentials, credsvc.OutcomeRateLimited) != 2 {
		t.Fatalf("Stats = %+v, want 1 issued and 2 rate limited", st)
	}
}

// TestOutcomeNames: every endpoint and outcome has a distinct name.
func TestOutcomeNames(t *testing.T) {
	seen := map[string]bool{}
	for e := range credsvc.Endpoint(credsvc.NumEndpoints) {
		for o := range credsvc.Outcome(credsvc.NumOutcomes) {
			name := e.String() + "/" + o.String()
			if strings.Contains(name, "unknown") || seen[name] {
				t.Errorf("%d/%d: name %q unknown or repeated", e, o, name)
			}
			seen[name] = true
		}
	}
	if credsvc.Endpoint(credsvc.NumEndpoints).String() != "unknown" || credsvc.Outcome(credsvc.NumOutcomes).String() != "unknown" {
		t.Error("out-of-range values are not unknown")
	}
}
