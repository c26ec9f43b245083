package mras

import (
	"encoding/xml"
	"strings"
	"testing"
)

// FuzzMRASRequest feeds arbitrary documents to the MRAS parser: it must
// never panic; what it accepts must hold 1 to 100 credentials with a
// valid location and a duration of 1 to 480 minutes; and a response to
// it must be well-formed XML that echoes requestID, to and from.
func FuzzMRASRequest(f *testing.F) {
	f.Add([]byte(mrasDoc("1", credRequest("1", userURI, "internet", "480"))))
	f.Add([]byte(mrasDoc("2", credRequest("1", "a", "intranet", "+0060"), credRequest("2", "b", "", ""))))
	f.Add([]byte("\uFEFF<?xml version=\"1.0\"?><request xmlns=\"http://schemas.microsoft.com/2006/09/sip/mrasp\" requestID=\"&amp;\" version=\"2.0\" route=\"directip\" from=\"a&#xA;b\"><credentialsRequest credentialsRequestID=\"x\"><identity>i</identity></credentialsRequest></request>"))
	f.Add([]byte(strings.Replace(mrasDoc("1", credRequest("1", "a", "", "")), `version="1.0"`, `version="3.1"`, 1)))
	f.Add([]byte("<request/>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, creds, err := parseMRASRequest(body, 480)
		if err != nil {
			if creds != nil {
				t.Fatalf("credentials with error %v", err)
			}
			if req == nil {
				return
			}
		} else {
			if len(creds) < 1 || len(creds) > maxMRASCredentials {
				t.Fatalf("%d credentials", len(creds))
			}
			for _, c := range creds {
				if !c.location.Valid() || c.minutes < 1 || c.minutes > 480 || c.id == "" {
					t.Fatalf("credential %+v", c)
				}
			}
		}
		b, merr := mrasAnswer(req, mrasOK).marshal()
		if merr != nil {
			t.Fatal(merr)
		}
		var back struct {
			XMLName   xml.Name `xml:"http://schemas.microsoft.com/2006/09/sip/mrasp response"`
			RequestID string   `xml:"requestID,attr"`
			To        string   `xml:"to,attr"`
			From      string   `xml:"from,attr"`
		}
		if err := xml.Unmarshal(b, &back); err != nil {
			t.Fatalf("response %q: %v", b, err)
		}
		if back.RequestID != req.RequestID || back.To != req.From || back.From != req.To {
			t.Fatalf("response %q does not echo %q %q %q", b, req.RequestID, req.From, req.To)
		}
	})
}
