package mras

import (
	"bufio"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/avedge/avedge/internal/credsvc"
)

// readOne reads one request from raw with the server's buffer size.
func readOne(raw string) (*sipRequest, error) {
	return readSIPRequest(bufio.NewReaderSize(strings.NewReader(raw), maxSIPHeader))
}

func TestReadSIPRequest(t *testing.T) {
	req, err := readOne(goldenRequest(5) + "trailing")
	if err != nil {
		t.Fatal(err)
	}
	body := mrasDoc("1", credRequest("1", userURI, "internet", "480"))
	if req.method != "SERVICE" || req.uri != mrasURI || !slices.Equal(req.via, []string{viaProxy, viaClient}) ||
		!slices.Equal(req.from, []string{fromUser}) || !slices.Equal(req.to, []string{toMRAS}) ||
		!slices.Equal(req.callID, []string{callID}) || !slices.Equal(req.cseq, []string{"5 SERVICE"}) ||
		!slices.Equal(req.contentType, []string{mrasContentType}) || string(req.body) != body {
		t.Fatalf("request %+v", req)
	}
	if err := req.check(); err != nil {
		t.Fatal(err)
	}
}

// TestReadSIPRequestCompactForms: compact names (RFC 3261 §7.3.3), any
// case, white space around the colon, an empty body.
func TestReadSIPRequestCompactForms(t *testing.T) {
	raw := "SERVICE sips:mras@example.com sip/2.0\r\n" +
		"v: SIP/2.0/TLS a;branch=z9hG4bK1, SIP/2.0/TLS b;branch=z9hG4bK2\r\n" +
		"VIA : SIP/2.0/TLS c;branch=z9hG4bK3\r\n" +
		"f:<sip:a@b>;tag=1\r\nt: sip:m@b\r\ni: x@y\r\nCSEQ:\t7   SERVICE\r\nc: application/msrtc-media-relay-auth+xml\r\nl: 0\r\n\r\n"
	req, err := readOne(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(req.via, []string{"SIP/2.0/TLS a;branch=z9hG4bK1, SIP/2.0/TLS b;branch=z9hG4bK2", "SIP/2.0/TLS c;branch=z9hG4bK3"}) ||
		req.from[0] != "<sip:a@b>;tag=1" || req.to[0] != "sip:m@b" || req.callID[0] != "x@y" || req.cseq[0] != "7   SERVICE" ||
		req.contentType[0] != mrasContentType || len(req.body) != 0 {
		t.Fatalf("request %+v", req)
	}
	if err := req.check(); err != nil {
		t.Fatal(err)
	}
}

func TestReadSIPRequestErrors(t *testing.T) {
	golden := goldenRequest(1)
	tests := []struct {
		name string
		raw  string
		err  error
	}{
		{"empty", "", io.EOF},
		{"truncated header", golden[:40], io.EOF},
		{"truncated body", golden[:len(golden)-1], io.ErrUnexpectedEOF},
		{"HTTP version", strings.Replace(golden, "SIP/2.0\r\n", "HTTP/1.1\r\n", 1), errSIPMalformed},
		{"two spaces", strings.Replace(golden, "SERVICE ", "SERVICE  ", 1), errSIPMalformed},
		{"method not a token", strings.Replace(golden, "SERVICE ", "SERV(CE ", 1), errSIPMalformed},
		{"bare LF", strings.Replace(golden, "Max-Forwards: 69\r\n", "Max-Forwards: 69\n", 1), errSIPMalformed},
		{"folded line", strings.Replace(golden, "Max-Forwards: 69\r\n", "Max-Forwards:\r\n\t69\r\n", 1), errSIPMalformed},
		{"no colon", strings.Replace(golden, "Max-Forwards: 69", "Max-Forwards 69", 1), errSIPMalformed},
		{"control character", strings.Replace(golden, "Max-Forwards: 69", "Max-Forwards: 6\x009", 1), errSIPMalformed},
		{"invalid UTF-8", strings.Replace(golden, "Max-Forwards: 69", "Max-Forwards: \xff", 1), errSIPMalformed},
		{"no Content-Length", strings.Replace(golden, "Content-Length:", "X-Length:", 1), errSIPMalformed},
		{"two Content-Lengths", strings.Replace(golden, "Max-Forwards: 69", "l: 1", 1), errSIPMalformed},
		{"negative Content-Length", strings.Replace(golden, "Content-Length: ", "Content-Length: -", 1), errSIPMalformed},
		{"empty Content-Length", strings.Replace(golden, "Max-Forwards: 69", "l:", 1), errSIPMalformed},
		{"Content-Length 65537", strings.Replace(golden, "Content-Length: ", "Content-Length: 65537\r\nX: ", 1), errSIPBodyTooLarge},
		{"Content-Length of 30 digits", strings.Replace(golden, "Content-Length: ", "Content-Length: "+strings.Repeat("9", 30)+"\r\nX: ", 1), errSIPBodyTooLarge},
		{"header over 8 KiB", strings.Replace(golden, "Max-Forwards", "X: "+strings.Repeat("y", maxSIPHeader)+"\r\nMax-Forwards", 1), errSIPHeaderTooLarge},
		{"headers over 8 KiB in all", strings.Replace(golden, "Max-Forwards", strings.Repeat("X: "+strings.Repeat("y", 1000)+"\r\n", 9)+"Max-Forwards", 1), errSIPHeaderTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := readOne(tt.raw)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			// A body too large is answered with the request's header fields.
			if errors.Is(err, errSIPBodyTooLarge) && (req == nil || len(req.via) != 2 || len(req.cseq) != 1) {
				t.Errorf("request %+v: want its header fields", req)
			}
		})
	}
}

func TestReadSIPRequestZeroPaddedLength(t *testing.T) {
	raw := strings.Replace(goldenRequest(1), "Content-Length: ", "Content-Length: 0000000000000000", 1)
	if _, err := readOne(raw); err != nil {
		t.Fatal(err)
	}
}

func TestSIPRequestCheck(t *testing.T) {
	golden := goldenRequest(1)
	tests := []struct {
		name, raw string
	}{
		{"no Via", strings.NewReplacer("Via: "+viaProxy+"\r\n", "", "Via: "+viaClient+"\r\n", "").Replace(golden)},
		{"empty Via", strings.Replace(golden, "Via: "+viaProxy, "Via:", 1)},
		{"no From", strings.Replace(golden, "From: "+fromUser+"\r\n", "", 1)},
		{"two To", strings.Replace(golden, "Max-Forwards: 69", "t: <sip:x@y>", 1)},
		{"no Call-ID", strings.Replace(golden, "Call-ID: "+callID+"\r\n", "", 1)},
		{"no CSeq", strings.Replace(golden, "CSeq: 1 SERVICE\r\n", "", 1)},
		{"CSeq of another method", strings.Replace(golden, "CSeq: 1 SERVICE", "CSeq: 1 INVITE", 1)},
		{"CSeq without number", strings.Replace(golden, "CSeq: 1 SERVICE", "CSeq: SERVICE", 1)},
		{"CSeq number too long", strings.Replace(golden, "CSeq: 1 SERVICE", "CSeq: 12345678901 SERVICE", 1)},
		{"two Content-Types", strings.Replace(golden, "Max-Forwards: 69", "c: text/plain", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := readOne(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if err := req.check(); !errors.Is(err, errSIPMalformed) {
				t.Errorf("check = %v, want errSIPMalformed", err)
			}
		})
	}
}

func TestHasSIPTag(t *testing.T) {
	for v, want := range map[string]bool{
		"<sip:a@b>":                       false,
		"<sip:a@b>;tag=1":                 true,
		"<sip:a@b> ; TAG = 1":             true,
		"<sip:a@b;tag=uri-param>":         false,
		"\"x>y\" <sip:a@b>":               false,
		"sip:a@b":                         false,
		"sip:a@b;tag=1":                   true,
		"sip:a@b;epid=3":                  false,
		"<sip:a@b>;epid=3;tag=2":          true,
		"<sip:a@b>;tagx=2":                false,
		"\"Alice\" <sip:a@b>;tag=x;epid=": true,
	} {
		if got := hasSIPTag(v); got != want {
			t.Errorf("hasSIPTag(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestAppendSIPResponse(t *testing.T) {
	req, err := readOne(goldenRequest(4))
	if err != nil {
		t.Fatal(err)
	}
	got := string(appendSIPResponse(nil, req, sipResponse{status: 405, headers: []sipHeader{{"Allow", "SERVICE"}}}, "T1"))
	want := "SIP/2.0 405 Method Not Allowed\r\n" +
		"Via: " + viaProxy + "\r\nVia: " + viaClient + "\r\n" +
		"From: " + fromUser + "\r\nTo: " + toMRAS + ";tag=T1\r\nCall-ID: " + callID + "\r\nCSeq: 4 SERVICE\r\n" +
		"Allow: SERVICE\r\nContent-Length: 0\r\n\r\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	// A To with a tag is copied unchanged; a body brings its type.
	req.to = []string{"<sip:m@b>;tag=abc"}
	got = string(appendSIPResponse(nil, req, sipResponse{status: 200, body: []byte("<x/>")}, "T2"))
	if !strings.Contains(got, "\r\nTo: <sip:m@b>;tag=abc\r\n") ||
		!strings.HasSuffix(got, "\r\nContent-Type: "+mrasContentType+"\r\nContent-Length: 4\r\n\r\n<x/>") {
		t.Errorf("got %q", got)
	}
	// An unreadable request: the status alone.
	if got := string(appendSIPResponse(nil, nil, sipResponse{status: 400}, "T3")); got != "SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n" {
		t.Errorf("got %q", got)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		in   string
		want credsvc.Sniffed
	}{
		{"", credsvc.SniffUndecided},
		{"S", credsvc.SniffUndecided},
		{"SERVICE", credsvc.SniffUndecided},
		{"SERVICE ", credsvc.SniffClaimed},
		{"SERVICE /x HTTP/1.1", credsvc.SniffClaimed},
		{"\r\n\r\n", credsvc.SniffClaimed},
		{"\r\n\r", credsvc.SniffUndecided},
		{"\r\n", credsvc.SniffUndecided},
		{"\r", credsvc.SniffUndecided},
		{"\r\nSERVICE sip:", credsvc.SniffClaimed},
		{"OPTIONS sip:a@b SIP/2.0", credsvc.SniffClaimed},
		{"OPTIONS SIPS:a@b SIP/2.0", credsvc.SniffClaimed},
		{"OPTIONS si", credsvc.SniffUndecided},
		{"OPTIONS sips", credsvc.SniffUndecided},
		{"OPTIONS * HTTP/1.1", credsvc.SniffHTTP},
		{"OPTIONS sipx", credsvc.SniffHTTP},
		{"POST /", credsvc.SniffHTTP},
		{"GET /v1/turn-credentials", credsvc.SniffHTTP},
		{"CONNECT example.com:443", credsvc.SniffHTTP},
		{"\r\nGET /", credsvc.SniffHTTP},
		{"\rX", credsvc.SniffHTTP},
		{" GET", credsvc.SniffHTTP},
		{"GET\t/", credsvc.SniffHTTP},
		{"\x16\x03\x01", credsvc.SniffHTTP},
	}
	for _, tt := range tests {
		if got := sniff([]byte(tt.in)); got != tt.want {
			t.Errorf("sniff(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
