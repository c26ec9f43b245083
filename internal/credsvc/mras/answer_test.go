package mras

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/credsvctest"
)

// testMRASResponse decodes a response document independently of the
// types that encode it.
type testMRASResponse struct {
	XMLName       xml.Name `xml:"http://schemas.microsoft.com/2006/09/sip/mrasp response"`
	RequestID     string   `xml:"requestID,attr"`
	Version       string   `xml:"version,attr"`
	ServerVersion string   `xml:"serverVersion,attr"`
	To            string   `xml:"to,attr"`
	From          string   `xml:"from,attr"`
	ReasonPhrase  string   `xml:"reasonPhrase,attr"`
	Credentials   []struct {
		ID       string `xml:"credentialsRequestID,attr"`
		Username string `xml:"credentials>username"`
		Password string `xml:"credentials>password"`
		Duration int    `xml:"credentials>duration"`
		Realm    string `xml:"credentials>realm"`
		Relays   []struct {
			Location        string `xml:"location"`
			HostName        string `xml:"hostName"`
			DirectIPAddress string `xml:"directIPAddress"`
			UDPPort         int    `xml:"udpPort"`
			TCPPort         int    `xml:"tcpPort"`
		} `xml:"mediaRelayList>mediaRelay"`
	} `xml:"credentialsResponse"`
}

// decodeMRAS decodes a response body.
func decodeMRAS(t *testing.T, body string) testMRASResponse {
	t.Helper()
	if !strings.HasPrefix(body, `<?xml version="1.0" encoding="utf-8"?><response `) {
		t.Fatalf("body %q", body)
	}
	var r testMRASResponse
	if err := xml.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("%v in %q", err, body)
	}
	return r
}

// wantREST checks that an MRAS username and password are base64 of a
// TURN REST credential for identity signed with SecretA, expiring
// lifetime after now, and returns the REST username.
func wantREST(t *testing.T, username, password, identity string, now time.Time, lifetime time.Duration) string {
	t.Helper()
	u, err := base64.StdEncoding.DecodeString(username)
	if err != nil {
		t.Fatalf("username %q: %v", username, err)
	}
	p, err := base64.StdEncoding.DecodeString(password)
	if err != nil {
		t.Fatalf("password %q: %v", password, err)
	}
	expiry, id, err := auth.ParseUsername(string(u))
	if err != nil || id != identity {
		t.Fatalf("REST username %q: identity %q, %v", u, id, err)
	}
	if d := expiry.Sub(now.Add(lifetime)); d < -time.Second || d > time.Second {
		t.Errorf("expiry %v, want %v ± 1s", expiry, now.Add(lifetime))
	}
	if want := auth.RESTPassword(credsvctest.SecretA.Value, string(u)); string(p) != want {
		t.Errorf("REST password %q, want %q", p, want)
	}
	return string(u)
}

// wantCopied checks the header fields a response copies from the golden
// request, and that To gained a tag.
func wantCopied(t *testing.T, r *sipReply, cseq string) {
	t.Helper()
	if got := r.get("Via"); !slices.Equal(got, []string{viaProxy, viaClient}) {
		t.Errorf("Via %q", got)
	}
	if got := r.one(t, "From"); got != fromUser {
		t.Errorf("From %q", got)
	}
	if got := r.one(t, "To"); !strings.HasPrefix(got, toMRAS+";tag=") || len(got) <= len(toMRAS+";tag=") {
		t.Errorf("To %q: want the request's with a tag", got)
	}
	if got := r.one(t, "Call-ID"); got != callID {
		t.Errorf("Call-ID %q", got)
	}
	if got := r.one(t, "CSeq"); got != cseq {
		t.Errorf("CSeq %q, want %q", got, cseq)
	}
}

// TestMRASGolden sends sipe's request as a SIP SERVICE over mTLS and checks
// the whole response.
func TestMRASGolden(t *testing.T) {
	s := startService(t, nil, nil)
	now := s.Clock.Now()
	c := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp))
	r := c.roundTrip(goldenRequest(1))
	if r.statusLine != "SIP/2.0 200 OK" {
		t.Fatalf("status %q: %s", r.statusLine, r.body)
	}
	wantCopied(t, r, "1 SERVICE")
	if got := r.one(t, "Content-Type"); got != mrasContentType {
		t.Errorf("Content-Type %q", got)
	}
	if got := r.one(t, "Content-Length"); got != strconv.Itoa(len(r.body)) {
		t.Errorf("Content-Length %s for %d bytes", got, len(r.body))
	}
	doc := decodeMRAS(t, r.body)
	if doc.RequestID != "1" || doc.Version != "2.0" || doc.ServerVersion != "2.0" || doc.To != userURI ||
		doc.From != mrasURI || doc.ReasonPhrase != "OK" || len(doc.Credentials) != 1 {
		t.Fatalf("response %+v", doc)
	}
	cr := doc.Credentials[0]
	user := wantREST(t, cr.Username, cr.Password, userURI, now, 480*time.Minute)
	if cr.ID != "1" || cr.Duration != 480 || cr.Realm != credsvctest.Realm || len(cr.Relays) != 1 {
		t.Fatalf("credentials %+v", cr)
	}
	if rl := cr.Relays[0]; rl.Location != "internet" || rl.HostName != "turn.example.com" || rl.DirectIPAddress != "" ||
		rl.UDPPort != 3478 || rl.TCPPort != 5349 {
		t.Errorf("relay %+v: want turn.example.com, UDP 3478, the TLS port 5349", rl)
	}
	// The exact bytes, with the clock's expiry.
	want := `<?xml version="1.0" encoding="utf-8"?>` +
		`<response xmlns="http://schemas.microsoft.com/2006/09/sip/mrasp" requestID="1" version="2.0" serverVersion="2.0" ` +
		`to="sip:alice@example.com" from="sip:MRASLoc.edge.example.com@example.com" reasonPhrase="OK">` +
		`<credentialsResponse credentialsRequestID="1"><credentials>` +
		`<username>` + base64.StdEncoding.EncodeToString([]byte(user)) + `</username>` +
		`<password>` + base64.StdEncoding.EncodeToString([]byte(auth.RESTPassword(credsvctest.SecretA.Value, user))) + `</password>` +
		`<duration>480</duration><realm>avedge.test</realm></credentials>` +
		`<mediaRelayList><mediaRelay><location>internet</location><hostName>turn.example.com</hostName>` +
		`<udpPort>3478</udpPort><tcpPort>5349</tcpPort></mediaRelay></mediaRelayList>` +
		`</credentialsResponse></response>`
	if r.body != want {
		t.Errorf("body\n%s\nwant\n%s", r.body, want)
	}
	line := s.Log.Wait(t, "credential issued", "identity="+userURI, "location=internet", "ttl=28800", "secret_id=a")
	pass := auth.RESTPassword(credsvctest.SecretA.Value, user)
	if strings.Contains(line, pass) || strings.Contains(line, base64.StdEncoding.EncodeToString([]byte(pass))) {
		t.Errorf("the password was logged: %s", line)
	}
	if st := s.Server.Stats(); st.Count(credsvc.EndpointMRAS, credsvc.OutcomeIssued) != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestMRASDuration: durations are minutes, 480 at most and by default, and
// never beyond MaxTTL; the credential's expiry matches.
func TestMRASDuration(t *testing.T) {
	tests := []struct {
		name     string
		maxTTL   time.Duration
		duration string
		want     int
	}{
		{"480 asked", 8 * time.Hour, "480", 480},
		{"600 cut to 480", 8 * time.Hour, "600", 480},
		{"none asked", 8 * time.Hour, "", 480},
		{"30 asked", 8 * time.Hour, "30", 30},
		{"huge, cut", 8 * time.Hour, "99999999999999999999999", 480},
		{"MaxTTL 1h", time.Hour, "480", 60},
		{"MaxTTL 1h, none asked", time.Hour, "", 60},
		{"MaxTTL 90s", 90 * time.Second, "480", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startService(t, func(o *credsvc.Options) { o.MaxTTL = tt.maxTTL }, nil)
			now := s.Clock.Now()
			r := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp)).roundTrip(sipMessage("SERVICE", mrasContentType,
				mrasDoc("7", credRequest("9", "bob", "", tt.duration)), 3))
			doc := decodeMRAS(t, r.body)
			if r.statusLine != "SIP/2.0 200 OK" || doc.ReasonPhrase != "OK" || len(doc.Credentials) != 1 {
				t.Fatalf("%s %+v", r.statusLine, doc)
			}
			cr := doc.Credentials[0]
			if cr.Duration != tt.want {
				t.Errorf("duration %d, want %d", cr.Duration, tt.want)
			}
			wantREST(t, cr.Username, cr.Password, "bob", now, time.Duration(tt.want)*time.Minute)
		})
	}
}

// TestMRASIntranet: location intranet gets the intranet relays, IP
// addresses as directIPAddress, ports only where configured.
func TestMRASIntranet(t *testing.T) {
	s := startService(t, nil, nil)
	r := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp)).roundTrip(sipMessage("SERVICE", mrasContentType,
		mrasDoc("2", credRequest("1", "carol", "intranet", "60"), credRequest("2", "dave", " internet ", "")), 1))
	doc := decodeMRAS(t, r.body)
	if doc.ReasonPhrase != "OK" || len(doc.Credentials) != 2 {
		t.Fatalf("%s %+v", r.statusLine, doc)
	}
	intra := doc.Credentials[0]
	if intra.ID != "1" || intra.Duration != 60 || len(intra.Relays) != 2 {
		t.Fatalf("intranet credentials %+v", intra)
	}
	for i, want := range []string{"10.1.2.3", "fd00::3"} {
		rl := intra.Relays[i]
		if rl.Location != "intranet" || rl.DirectIPAddress != want || rl.HostName != "" || rl.UDPPort != 3478 || rl.TCPPort != 0 {
			t.Errorf("relay %d: %+v, want %s UDP 3478 only", i, rl, want)
		}
	}
	if !strings.Contains(r.body, "<mediaRelay><location>intranet</location><directIPAddress>10.1.2.3</directIPAddress><udpPort>3478</udpPort></mediaRelay>") {
		t.Errorf("body %s", r.body)
	}
	if inet := doc.Credentials[1]; inet.ID != "2" || inet.Duration != 480 || len(inet.Relays) != 1 || inet.Relays[0].Location != "internet" {
		t.Errorf("internet credentials %+v", inet)
	}
}

// TestMRASAndHTTPOnOnePort: the HTTP API and MRAS share the port, and
// each is counted under its endpoint.
func TestMRASAndHTTPOnOnePort(t *testing.T) {
	s := startService(t, nil, nil)
	resp, body, err := s.PostJSON(s.HTTPClient(s.PKI.Client(credsvctest.TrustedApp)), `{"identity":"alice"}`)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP: %v %s", err, body)
	}
	if r := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp)).roundTrip(goldenRequest(1)); decodeMRAS(t, r.body).ReasonPhrase != "OK" {
		t.Fatalf("SIP: %s %s", r.statusLine, r.body)
	}
	resp, body, err = s.PostJSON(s.HTTPClient(s.PKI.Client(credsvctest.TrustedApp)), `{"identity":"bob"}`)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP after SIP: %v %s", err, body)
	}
	st := s.Server.Stats()
	if st.Count(credsvc.EndpointCredentials, credsvc.OutcomeIssued) != 2 || st.Count(credsvc.EndpointMRAS, credsvc.OutcomeIssued) != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestMRASRefusals covers the answers other than credentials, each on a
// fresh connection: status, extra header fields, body, whether the
// connection stays open, and the count.
func TestMRASRefusals(t *testing.T) {
	s := startService(t, func(o *credsvc.Options) {
		o.Relays = []credsvc.Relay{{Host: "turn.example.com", UDPPort: 3478, Location: credsvc.Internet}}
	}, nil)
	tests := []struct {
		name    string
		cert    string
		request string
		status  string
		header  sipHeader // an extra field, if any
		phrase  string    // the document's reasonPhrase; "" for no body
		closed  bool
		outcome credsvc.Outcome
	}{
		{"method", credsvctest.TrustedApp, sipMessage("OPTIONS", "", "", 1),
			"SIP/2.0 405 Method Not Allowed", sipHeader{"Allow", "SERVICE"}, "", false, credsvc.OutcomeMethodNotAllowed},
		{"content type", credsvctest.TrustedApp, sipMessage("SERVICE", "application/sdp", "v=0\r\n", 1),
			"SIP/2.0 415 Unsupported Media Type", sipHeader{"Accept", mrasContentType}, "", false, credsvc.OutcomeUnsupportedMediaType},
		{"no content type", credsvctest.TrustedApp, sipMessage("SERVICE", "", mrasDoc("1", credRequest("1", "a", "", "")), 1),
			"SIP/2.0 415 Unsupported Media Type", sipHeader{"Accept", mrasContentType}, "", false, credsvc.OutcomeUnsupportedMediaType},
		{"malformed XML", credsvctest.TrustedApp, sipMessage("SERVICE", mrasContentType, "<request", 1),
			"SIP/2.0 200 OK", sipHeader{}, "Request Malformed", false, credsvc.OutcomeBadRequest},
		{"version", credsvctest.TrustedApp, sipMessage("SERVICE", mrasContentType,
			strings.Replace(mrasDoc("1", credRequest("1", "a", "", "")), `version="1.0"`, `version="3.0"`, 1), 1),
			"SIP/2.0 200 OK", sipHeader{}, "Version Mismatch", false, credsvc.OutcomeBadRequest},
		{"no relays for the location", credsvctest.TrustedApp, sipMessage("SERVICE", mrasContentType,
			mrasDoc("1", credRequest("1", "a", "intranet", "")), 1),
			"SIP/2.0 200 OK", sipHeader{}, "Other Failure", false, credsvc.OutcomeBadRequest},
		{"missing Call-ID", credsvctest.TrustedApp, strings.Replace(goldenRequest(1), "Call-ID: "+callID+"\r\n", "", 1),
			"SIP/2.0 400 Bad Request", sipHeader{}, "", false, credsvc.OutcomeBadRequest},
		{"body too large", credsvctest.TrustedApp, strings.Replace(goldenRequest(1), "Content-Length: ", "Content-Length: 65537\r\nX-Old: ", 1),
			"SIP/2.0 413 Request Entity Too Large", sipHeader{}, "", true, credsvc.OutcomeBodyTooLarge},
		{"header too large", credsvctest.TrustedApp, strings.Replace(goldenRequest(1), "Max-Forwards", "X-Pad: "+strings.Repeat("x", maxSIPHeader)+"\r\nMax-Forwards", 1),
			"SIP/2.0 513 Message Too Large", sipHeader{}, "", true, credsvc.OutcomeBodyTooLarge},
		{"folded header", credsvctest.TrustedApp, strings.Replace(goldenRequest(1), "Max-Forwards: 69\r\n", "Max-Forwards:\r\n 69\r\n", 1),
			"SIP/2.0 400 Bad Request", sipHeader{}, "", true, credsvc.OutcomeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Server.Stats().Count(credsvc.EndpointMRAS, tt.outcome)
			c := s.dialSIP(s.PKI.Client(tt.cert))
			r := c.roundTrip(tt.request)
			if r.statusLine != tt.status {
				t.Fatalf("status %q, want %q (%s)", r.statusLine, tt.status, r.body)
			}
			if tt.header.name != "" {
				if got := r.one(t, tt.header.name); got != tt.header.value {
					t.Errorf("%s %q, want %q", tt.header.name, got, tt.header.value)
				}
			}
			if tt.phrase == "" {
				if r.body != "" || r.get("Content-Type") != nil {
					t.Errorf("body %q, Content-Type %q: want none", r.body, r.get("Content-Type"))
				}
			} else {
				doc := decodeMRAS(t, r.body)
				if doc.ReasonPhrase != tt.phrase || len(doc.Credentials) != 0 {
					t.Errorf("document %+v, want reasonPhrase %q and no credentials", doc, tt.phrase)
				}
				if r.one(t, "Content-Type") != mrasContentType {
					t.Errorf("Content-Type %q", r.get("Content-Type"))
				}
			}
			if tt.closed {
				c.wantClosed()
			} else if r2 := c.roundTrip(goldenRequest(2)); r2.statusLine != "SIP/2.0 200 OK" || decodeMRAS(t, r2.body).ReasonPhrase != "OK" {
				t.Errorf("next request on the connection: %s %s", r2.statusLine, r2.body)
			}
			if got := s.Server.Stats().Count(credsvc.EndpointMRAS, tt.outcome); got != before+1 {
				t.Errorf("count of %v: %d, want %d", tt.outcome, got, before+1)
			}
		})
	}
}

// TestMRASRateLimit: over the client's rate, 503 with Retry-After and
// reasonPhrase "Server Busy".
func TestMRASRateLimit(t *testing.T) {
	s := startService(t, func(o *credsvc.Options) { o.Rate = credsvc.Rate{PerSecond: 0.25, Burst: 1} }, nil)
	c := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp))
	if r := c.roundTrip(goldenRequest(1)); r.statusLine != "SIP/2.0 200 OK" {
		t.Fatalf("first request: %s", r.statusLine)
	}
	r := c.roundTrip(goldenRequest(2))
	if r.statusLine != "SIP/2.0 503 Service Unavailable" {
		t.Fatalf("status %q", r.statusLine)
	}
	wantCopied(t, r, "2 SERVICE")
	if got := r.one(t, "Retry-After"); got != "4" {
		t.Errorf("Retry-After %q, want 4", got)
	}
	if doc := decodeMRAS(t, r.body); doc.ReasonPhrase != "Server Busy" || len(doc.Credentials) != 0 {
		t.Errorf("document %+v", doc)
	}
	s.Clock.Advance(4 * time.Second)
	if r := c.roundTrip(goldenRequest(3)); r.statusLine != "SIP/2.0 200 OK" {
		t.Fatalf("after the wait: %s", r.statusLine)
	}
	if st := s.Server.Stats(); st.Count(credsvc.EndpointMRAS, credsvc.OutcomeRateLimited) != 1 || st.Count(credsvc.EndpointMRAS, credsvc.OutcomeIssued) != 2 {
		t.Errorf("stats %+v", st)
	}
}

// manyCredentials returns a request for n credentials of distinct users,
// with CSeq cseq.
func manyCredentials(n, cseq int) string {
	creds := make([]string, n)
	for i := range creds {
		creds[i] = credRequest(strconv.Itoa(i+1), "user"+strconv.Itoa(i+1), "", "")
	}
	return sipMessage("SERVICE", mrasContentType, mrasDoc("7", creds...), cseq)
}

// TestMRASChargedPerCredential: each credential asked for costs a token of
// the client's rate, so a client limited to 3/s (burst 3) gets no more
// than 3 credentials a second from requests of 3 credentials each
// (security review 2026-12, finding 8).
func TestMRASChargedPerCredential(t *testing.T) {
	const rate = 3
	s := startService(t, func(o *credsvc.Options) { o.Rate = credsvc.Rate{PerSecond: rate, Burst: rate} }, nil)
	c := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp))
	cseq, issued := 0, 0
	const seconds = 5
	for sec := 0; sec <= seconds; sec++ {
		if sec > 0 {
			s.Clock.Advance(time.Second)
		}
		for {
			cseq++
			r := c.roundTrip(manyCredentials(rate, cseq))
			if r.statusLine != "SIP/2.0 200 OK" {
				if r.statusLine != "SIP/2.0 503 Service Unavailable" {
					t.Fatalf("second %d: %s", sec, r.statusLine)
				}
				break
			}
			doc := decodeMRAS(t, r.body)
			if doc.ReasonPhrase != "OK" {
				t.Fatalf("second %d: document %+v", sec, doc)
			}
			issued += len(doc.Credentials)
		}
	}
	if want := rate + rate*seconds; issued != want {
		t.Errorf("%d credentials issued in %d s at %d/s (burst %d), want %d", issued, seconds, rate, rate, want)
	}
	if got := s.Server.Stats().Count(credsvc.EndpointMRAS, credsvc.OutcomeIssued); got != seconds+1 {
		t.Errorf("%d requests served, want %d", got, seconds+1)
	}
}

// TestMRASTooFewTokensForAll: a request whose credentials need more
// tokens than remain is refused whole with 503, Retry-After saying when
// they will be there, and its document echoed; a request of more
// credentials than the burst gets Request Too Large.
func TestMRASTooFewTokensForAll(t *testing.T) {
	s := startService(t, func(o *credsvc.Options) { o.Rate = credsvc.Rate{PerSecond: 2, Burst: 4} }, nil)
	c := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp))
	if r := c.roundTrip(manyCredentials(3, 1)); r.statusLine != "SIP/2.0 200 OK" {
		t.Fatalf("first request: %s", r.statusLine)
	}
	// One token is left: the request takes it, and lacks two more.
	r := c.roundTrip(manyCredentials(3, 2))
	if r.statusLine != "SIP/2.0 503 Service Unavailable" {
		t.Fatalf("status %q", r.statusLine)
	}
	wantCopied(t, r, "2 SERVICE")
	// Retry-After covers the retry's own first token too: three at 2/s.
	if got := r.one(t, "Retry-After"); got != "2" {
		t.Errorf("Retry-After %q, want 2", got)
	}
	if doc := decodeMRAS(t, r.body); doc.ReasonPhrase != "Server Busy" || doc.RequestID != "7" || len(doc.Credentials) != 0 {
		t.Errorf("document %+v", doc)
	}
	// Retrying exactly when told succeeds.
	s.Clock.Advance(2 * time.Second)
	if r := c.roundTrip(manyCredentials(3, 2)); r.statusLine != "SIP/2.0 200 OK" || len(decodeMRAS(t, r.body).Credentials) != 3 {
		t.Fatalf("the retry at Retry-After: %s %s", r.statusLine, r.body)
	}
	s.Clock.Advance(time.Hour) // a full bucket: 4 tokens
	r = c.roundTrip(manyCredentials(5, 3))
	if r.statusLine != "SIP/2.0 200 OK" {
		t.Fatalf("status %q", r.statusLine)
	}
	if doc := decodeMRAS(t, r.body); doc.ReasonPhrase != "Request Too Large" || len(doc.Credentials) != 0 {
		t.Errorf("document %+v", doc)
	}
	s.Clock.Advance(time.Hour)
	if r := c.roundTrip(manyCredentials(4, 4)); r.statusLine != "SIP/2.0 200 OK" || len(decodeMRAS(t, r.body).Credentials) != 4 {
		t.Fatalf("a request of the whole burst: %s %s", r.statusLine, r.body)
	}
	st := s.Server.Stats()
	if st.Count(credsvc.EndpointMRAS, credsvc.OutcomeRateLimited) != 1 || st.Count(credsvc.EndpointMRAS, credsvc.OutcomeBadRequest) != 1 ||
		st.Count(credsvc.EndpointMRAS, credsvc.OutcomeIssued) != 3 {
		t.Errorf("stats %+v", st)
	}
	s.Log.Wait(t, "request refused", "rate limit exceeded by 3 credentialsRequests")
}

// TestMRASReverifies: a kept-alive SIP connection whose CA was removed is
// refused at its next request, and closed.
func TestMRASReverifies(t *testing.T) {
	s := startService(t, nil, nil)
	c := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp))
	if r := c.roundTrip(goldenRequest(1)); r.statusLine != "SIP/2.0 200 OK" {
		t.Fatalf("before the reload: %s", r.statusLine)
	}
	if err := s.Server.SetCertificates(s.PKI.Server(), credsvctest.NewPKI(t, s.Clock.Now()).CA.Pool()); err != nil {
		t.Fatal(err)
	}
	r := c.roundTrip(goldenRequest(2))
	if r.statusLine != "SIP/2.0 403 Forbidden" || decodeMRAS(t, r.body).ReasonPhrase != "Forbidden" {
		t.Fatalf("after the CA was removed: %s %s", r.statusLine, r.body)
	}
	c.wantClosed()
	s.Log.Wait(t, "request refused", "status=403", "no longer verifies", "endpoint=mras")
}

// TestMRASKeepAlive: a CRLFCRLF ping gets a CRLF pong, on its own and
// before a request; lone CRLFs before a request are skipped.
func TestMRASKeepAlive(t *testing.T) {
	s := startService(t, nil, nil)
	c := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp))
	c.send("\r\n\r\n")
	b := make([]byte, 2)
	if _, err := io.ReadFull(c.br, b); err != nil || string(b) != "\r\n" {
		t.Fatalf("pong %q, %v", b, err)
	}
	c.send("\r\n") // half a ping: no pong yet
	// The other half, then a lone CRLF, which precedes the request.
	c.send("\r\n\r\n" + goldenRequest(1))
	if _, err := io.ReadFull(c.br, b); err != nil || string(b) != "\r\n" {
		t.Fatalf("pong %q, %v", b, err)
	}
	if r := c.read(); r.statusLine != "SIP/2.0 200 OK" {
		t.Fatalf("request after the pings: %s", r.statusLine)
	}
	if st := s.Server.Stats(); st.Count(credsvc.EndpointMRAS, credsvc.OutcomeIssued) != 1 {
		t.Errorf("stats %+v: pings are not requests", st)
	}
}

// TestMRASTwoRequestsOnOneConnection, sent at once (pipelined).
func TestMRASTwoRequestsOnOneConnection(t *testing.T) {
	s := startService(t, nil, nil)
	c := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp))
	c.send(goldenRequest(1) + strings.Replace(goldenRequest(2), `requestID="1"`, `requestID="2"`, 1))
	for i, id := range []string{"1", "2"} {
		r := c.read()
		wantCopied(t, r, strconv.Itoa(i+1)+" SERVICE")
		if doc := decodeMRAS(t, r.body); doc.RequestID != id || doc.ReasonPhrase != "OK" {
			t.Errorf("response %d: %+v", i+1, doc)
		}
	}
}

// TestMRASSilentConnectionClosed: a connection that completes its
// handshake and sends nothing is closed after the timeout.
func TestMRASSilentConnectionClosed(t *testing.T) {
	s := startService(t, nil, func(o *credsvc.ServerOptions) { o.Timeout = 200 * time.Millisecond })
	c := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp))
	if err := c.conn.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.wantClosed()
}

// TestMRASSlowRequestClosed: a request that starts but does not finish
// within the timeout closes the connection unanswered.
func TestMRASSlowRequestClosed(t *testing.T) {
	s := startService(t, nil, func(o *credsvc.ServerOptions) { o.Timeout = 200 * time.Millisecond })
	c := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp))
	req := goldenRequest(1)
	c.send(req[:len(req)-10])
	c.wantClosed()
}

// TestMRASShutdown: Shutdown closes an idle SIP connection and returns.
func TestMRASShutdown(t *testing.T) {
	s := startService(t, nil, nil)
	c := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp))
	if r := c.roundTrip(goldenRequest(1)); r.statusLine != "SIP/2.0 200 OK" {
		t.Fatalf("%s", r.statusLine)
	}
	ctx, cancel := context.WithTimeout(context.Background(), credsvctest.IOTimeout)
	defer cancel()
	if err := s.Server.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.wantClosed()
}

// TestMRASShutdownDuringSniff: Shutdown closes a connection that has not
// yet shown its protocol.
func TestMRASShutdownDuringSniff(t *testing.T) {
	s := startService(t, nil, nil)
	c := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp))
	c.send("SERV")
	ctx, cancel := context.WithTimeout(context.Background(), credsvctest.IOTimeout)
	defer cancel()
	if err := s.Server.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.wantClosed()
}

// TestMRASDisabled: without ServerOptions.MRAS the port speaks HTTP only, so a SIP
// SERVICE request gets the HTTP server's 400 and no credential, while the
// HTTP API still issues.
func TestMRASDisabled(t *testing.T) {
	s := startService(t, nil, func(o *credsvc.ServerOptions) { o.MRAS = nil })
	c := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp))
	c.send(goldenRequest(1))
	_ = c.conn.SetReadDeadline(time.Now().Add(credsvctest.IOTimeout))
	b, _ := io.ReadAll(c.br) // the HTTP server closes after its 400
	got := string(b)
	if !strings.HasPrefix(got, "HTTP/1.1 400 ") || strings.Contains(got, "<credentials>") {
		t.Fatalf("SIP with MRAS disabled: %q", got)
	}
	resp, body, err := s.PostJSON(s.HTTPClient(s.PKI.Client(credsvctest.TrustedApp)), `{"identity":"alice"}`)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP: %v %s", err, body)
	}
	if st := s.Server.Stats(); st.Count(credsvc.EndpointMRAS, credsvc.OutcomeIssued) != 0 {
		t.Errorf("stats %+v", st)
	}
}
