package mras

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// FuzzSIPMessage feeds arbitrary streams to the SIP request reader: it
// must never panic, read more than its bounds allow or accept a request
// whose response would break the framing; each request read is answered
// with a well-formed response copying its Via header fields.
func FuzzSIPMessage(f *testing.F) {
	f.Add([]byte(goldenRequest(1)))
	f.Add([]byte(goldenRequest(1) + goldenRequest(2)))
	f.Add([]byte("SERVICE sips:m@b sip/2.0\r\nv: a\r\nf: <sip:a@b>;tag=1\r\nt: sip:m@b\r\ni: x\r\nCSEQ: 7 SERVICE\r\nl: 0\r\n\r\n"))
	f.Add([]byte("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n"))
	f.Add([]byte("SERVICE sip:a SIP/2.0\r\nVia: x\r\n y\r\n\r\n"))
	f.Add([]byte("\r\n\r\nSERVICE sip:a SIP/2.0\r\nl: 3\r\n\r\nabc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), maxSIPHeader)
		for range 4 {
			req, err := readSIPRequest(br)
			if err != nil {
				if req != nil && len(req.body) != 0 {
					t.Fatalf("a refused request with a body: %v", err)
				}
				return
			}
			if len(req.body) > maxSIPBody || !isSIPToken(req.method) {
				t.Fatalf("request %q %d-byte body", req.method, len(req.body))
			}
			_ = req.check()
			out := appendSIPResponse(nil, req, sipResponse{status: 200, body: []byte("<x/>")}, "tag")
			head, body, ok := bytes.Cut(out, []byte("\r\n\r\n"))
			if !ok || string(body) != "<x/>" {
				t.Fatalf("response %q", out)
			}
			lines := strings.Split(string(head), "\r\n")
			if lines[0] != "SIP/2.0 200 OK" {
				t.Fatalf("status line %q", lines[0])
			}
			vias := 0
			for _, l := range lines[1:] {
				if strings.ContainsAny(l, "\r\n") || !strings.Contains(l, ": ") {
					t.Fatalf("header line %q", l)
				}
				if strings.HasPrefix(l, "Via: ") {
					vias++
				}
			}
			if vias != len(req.via) {
				t.Fatalf("%d Via lines for %d", vias, len(req.via))
			}
		}
	})
}
