package mras

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/credsvctest"
)

func TestParseMRASRequest(t *testing.T) {
	doc := mrasDoc("42", credRequest("1", "alice", "intranet", "+060"), credRequest("2", "a:b", "", ""),
		credRequest("3", "c", "internet", " 9999 "))
	req, creds, err := parseMRASRequest([]byte(doc), 480)
	if err != nil {
		t.Fatal(err)
	}
	if req.RequestID != "42" || req.From != userURI || req.To != mrasURI || req.Version != "1.0" {
		t.Errorf("request %+v", req)
	}
	want := []mrasCredential{
		{id: "1", identity: "alice", location: credsvc.Intranet, minutes: 60},
		{id: "2", identity: "a:b", location: credsvc.Internet, minutes: 480},
		{id: "3", identity: "c", location: credsvc.Internet, minutes: 480},
	}
	if len(creds) != len(want) {
		t.Fatalf("credentials %+v", creds)
	}
	for i := range want {
		if creds[i] != want[i] {
			t.Errorf("credential %d: %+v, want %+v", i, creds[i], want[i])
		}
	}
	// A byte order mark, an XML declaration, comments and a route.
	doc = "\uFEFF<?xml version=\"1.0\" encoding=\"utf-8\"?><!-- c -->\n" +
		strings.Replace(mrasDoc("1", credRequest("1", "a", "", "5")), "<request ", `<request route="directip" `, 1) + "<!-- end -->\n"
	if _, creds, err := parseMRASRequest([]byte(doc), 480); err != nil || len(creds) != 1 || creds[0].minutes != 5 {
		t.Errorf("decorated document: %+v, %v", creds, err)
	}
}

func TestParseMRASRequestErrors(t *testing.T) {
	one := credRequest("1", "a", "", "")
	valid := mrasDoc("1", one)
	tests := []struct {
		name string
		doc  string
		err  error
	}{
		{"empty", "", errMRASMalformed},
		{"not XML", "hello", errMRASMalformed},
		{"unclosed", strings.TrimSuffix(valid, "</request>\n"), errMRASMalformed},
		{"unknown root", strings.NewReplacer("<request ", "<query ", "</request>", "</query>").Replace(valid), errMRASMalformed},
		{"no namespace", strings.Replace(valid, `xmlns="http://schemas.microsoft.com/2006/09/sip/mrasp"`, "", 1), errMRASMalformed},
		{"other namespace", strings.Replace(valid, "2006/09/sip/mrasp", "2006/09/sip/other", 1), errMRASMalformed},
		{"child in another namespace", strings.Replace(valid, "<identity>", `<identity xmlns="urn:x">`, 1), errMRASMalformed},
		{"version 3.0", strings.Replace(valid, `version="1.0"`, `version="3.0"`, 1), errMRASVersion},
		{"version 0.9", strings.Replace(valid, `version="1.0"`, `version="0.9"`, 1), errMRASVersion},
		{"version missing", strings.Replace(valid, `version="1.0"`, "", 1), errMRASMalformed},
		{"version not a number", strings.Replace(valid, `version="1.0"`, `version="one"`, 1), errMRASMalformed},
		{"no requestID", strings.Replace(valid, `requestID="1"`, "", 1), errMRASMalformed},
		{"requestID too long", strings.Replace(valid, `requestID="1"`, `requestID="`+strings.Repeat("1", 65)+`"`, 1), errMRASMalformed},
		{"bad route", strings.Replace(valid, "<request ", `<request route="anywhere" `, 1), errMRASMalformed},
		{"no credentialsRequest", mrasDoc("1"), errMRASMalformed},
		{"101 credentialsRequests", mrasDoc("1", strings.Repeat(one, 101)), errMRASTooLarge},
		{"no credentialsRequestID", mrasDoc("1", credRequest("", "a", "", "")), errMRASMalformed},
		{"no identity", mrasDoc("1", strings.Replace(one, "<identity>a</identity>", "", 1)), errMRASMalformed},
		{"two identities", mrasDoc("1", strings.Replace(one, "<identity>a</identity>", "<identity>a</identity><identity>b</identity>", 1)), errMRASMalformed},
		{"two locations", mrasDoc("1", strings.Replace(credRequest("1", "a", "internet", ""), "</location>", "</location><location>internet</location>", 1)), errMRASMalformed},
		{"bad location", mrasDoc("1", credRequest("1", "a", "moon", "")), errMRASMalformed},
		{"empty location", mrasDoc("1", credRequest("1", "a", " ", "")), errMRASMalformed},
		{"duration 0", mrasDoc("1", credRequest("1", "a", "", "000")), errMRASMalformed},
		{"duration -5", mrasDoc("1", credRequest("1", "a", "", "-5")), errMRASMalformed},
		{"duration 1.5", mrasDoc("1", credRequest("1", "a", "", "1.5")), errMRASMalformed},
		{"duration empty", mrasDoc("1", credRequest("1", "a", "", " ")), errMRASMalformed},
		{"unknown element", mrasDoc("1", strings.Replace(one, "</credentialsRequest>", "<color>red</color></credentialsRequest>", 1)), errMRASMalformed},
		{"text in request", strings.Replace(valid, "</request>", "stray</request>", 1), errMRASMalformed},
		{"text in credentialsRequest", mrasDoc("1", strings.Replace(one, "</credentialsRequest>", "stray</credentialsRequest>", 1)), errMRASMalformed},
		{"second root", valid + "<request/>", errMRASMalformed},
		{"text after root", valid + "x", errMRASMalformed},
		{"text before root", "x" + valid, errMRASMalformed},
		{"doctype", `<!DOCTYPE request [<!ENTITY e "x">]>` + valid, errMRASMalformed},
		{"undefined entity", strings.Replace(valid, "<identity>a", "<identity>&e;", 1), errMRASMalformed},
		{"UTF-16 declared", `<?xml version="1.0" encoding="utf-16"?>` + valid, errMRASMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, creds, err := parseMRASRequest([]byte(tt.doc), 480); !errors.Is(err, tt.err) || creds != nil {
				t.Errorf("error %v, credentials %+v; want %v", err, creds, tt.err)
			}
		})
	}
}

// TestServeMRASFailures: request-level failures issue nothing, not even
// the valid credentialsRequests of the request, and echo the request's
// attributes.
func TestServeMRASFailures(t *testing.T) {
	ok := credRequest("1", "alice", "", "")
	tests := []struct {
		name    string
		mod     func(*credsvc.Options)
		doc     string
		phrase  string
		outcome credsvc.Outcome
		echo    bool // the response carries requestID, to and from
	}{
		{"malformed", nil, "<request", mrasMalformed, credsvc.OutcomeBadRequest, false},
		{"version", nil, strings.Replace(mrasDoc("5", ok), `version="1.0"`, `version="9.0"`, 1), mrasVersionMismatch, credsvc.OutcomeBadRequest, true},
		{"too many", nil, mrasDoc("5", strings.Repeat(ok, 101)), mrasTooLarge, credsvc.OutcomeBadRequest, true},
		{"identity too long", nil, mrasDoc("5", ok, credRequest("2", strings.Repeat("x", 129), "", "")), mrasOtherFailure, credsvc.OutcomeBadRequest, true},
		{"identity with a tab", nil, mrasDoc("5", credRequest("2", "a\tb", "", "")), mrasOtherFailure, credsvc.OutcomeBadRequest, true},
		{"no relays", func(o *credsvc.Options) { o.Relays = credsvctest.Relays[:1] }, mrasDoc("5", ok, credRequest("2", "b", "intranet", "")), mrasOtherFailure, credsvc.OutcomeBadRequest, true},
		{"MaxTTL under a minute", func(o *credsvc.Options) { o.MaxTTL = 59 * time.Second }, mrasDoc("5", ok), mrasOtherFailure, credsvc.OutcomeBadRequest, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newHandlerEnv(t, tt.mod)
			req := &sipRequest{method: "SERVICE", contentType: []string{mrasContentType + "; charset=utf-8"}, body: []byte(tt.doc)}
			state := &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{e.App}}}
			resp := e.svc.serveMRAS(req, state, "192.0.2.1:5061")
			if resp.status != 200 || resp.close {
				t.Fatalf("response %d (close %v)", resp.status, resp.close)
			}
			doc := decodeMRAS(t, string(resp.body))
			if doc.ReasonPhrase != tt.phrase || len(doc.Credentials) != 0 {
				t.Errorf("document %+v, want %q without credentials", doc, tt.phrase)
			}
			if echoed := doc.RequestID == "5" && doc.To == userURI && doc.From == mrasURI; echoed != tt.echo {
				t.Errorf("document %+v: echoes the request: %v, want %v", doc, echoed, tt.echo)
			}
			if got := e.Handler.Stats().Count(credsvc.EndpointMRAS, tt.outcome); got != 1 {
				t.Errorf("count %d", got)
			}
			for _, line := range e.Log.Drain() {
				if strings.Contains(line, "credential issued") {
					t.Errorf("logged %s", line)
				}
			}
		})
	}
}

// TestServeMRASNoCertificate: a state without verified chains is refused.
func TestServeMRASNoCertificate(t *testing.T) {
	e := newHandlerEnv(t, nil)
	req := &sipRequest{method: "SERVICE", contentType: []string{mrasContentType}, body: []byte(mrasDoc("1", credRequest("1", "a", "", "")))}
	for _, state := range []*tls.ConnectionState{nil, {}} {
		if resp := e.svc.serveMRAS(req, state, "192.0.2.1:5061"); resp.status != 403 || !resp.close {
			t.Errorf("state %+v: %d (close %v)", state, resp.status, resp.close)
		}
	}
}
