package mras

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/credsvc/credsvctest"
)

// sipClient is a raw SIP client over one mutually authenticated TLS
// connection to the service.
type sipClient struct {
	t    *testing.T
	conn *tls.Conn
	br   *bufio.Reader
}

// dialSIP connects to the service presenting cert.
func (s *service) dialSIP(cert tls.Certificate) *sipClient {
	s.t.Helper()
	conn, err := tls.Dial("tcp", s.Server.Addr().String(), s.TLSConfig(cert))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { conn.Close() })
	return &sipClient{t: s.t, conn: conn, br: bufio.NewReader(conn)}
}

// send writes raw bytes.
func (c *sipClient) send(raw string) {
	c.t.Helper()
	_ = c.conn.SetDeadline(time.Now().Add(credsvctest.IOTimeout))
	if _, err := io.WriteString(c.conn, raw); err != nil {
		c.t.Fatal(err)
	}
}

// sipReply is a SIP response as read by the test client.
type sipReply struct {
	statusLine string
	headers    []sipHeader
	body       string
}

// get returns the values of the header fields named name, in order.
func (r *sipReply) get(name string) []string {
	var out []string
	for _, h := range r.headers {
		if strings.EqualFold(h.name, name) {
			out = append(out, h.value)
		}
	}
	return out
}

// one returns the only value of the header field name, failing otherwise.
func (r *sipReply) one(t *testing.T, name string) string {
	t.Helper()
	v := r.get(name)
	if len(v) != 1 {
		t.Fatalf("%d %s header fields in %+v", len(v), name, r)
	}
	return v[0]
}

// read reads one response.
func (c *sipClient) read() *sipReply {
	c.t.Helper()
	_ = c.conn.SetDeadline(time.Now().Add(credsvctest.IOTimeout))
	line := func() string {
		c.t.Helper()
		s, err := c.br.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading a response: %v (read %q)", err, s)
		}
		if !strings.HasSuffix(s, "\r\n") {
			c.t.Fatalf("line %q not ended by CRLF", s)
		}
		return strings.TrimSuffix(s, "\r\n")
	}
	r := &sipReply{statusLine: line()}
	length := -1
	for {
		l := line()
		if l == "" {
			break
		}
		name, value, ok := strings.Cut(l, ": ")
		if !ok {
			c.t.Fatalf("header line %q", l)
		}
		r.headers = append(r.headers, sipHeader{name, value})
		if name == "Content-Length" {
			n, err := strconv.Atoi(value)
			if err != nil {
				c.t.Fatal(err)
			}
			length = n
		}
	}
	if length < 0 {
		c.t.Fatalf("no Content-Length in %+v", r)
	}
	b := make([]byte, length)
	if _, err := io.ReadFull(c.br, b); err != nil {
		c.t.Fatal(err)
	}
	r.body = string(b)
	return r
}

// roundTrip sends raw and reads the response.
func (c *sipClient) roundTrip(raw string) *sipReply {
	c.t.Helper()
	c.send(raw)
	return c.read()
}

// wantClosed checks that the server closes the connection without sending
// anything more: EOF, or a reset when the server closed it with bytes
// unread.
func (c *sipClient) wantClosed() {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(credsvctest.IOTimeout))
	if n, err := c.br.Read(make([]byte, 1)); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		c.t.Fatalf("read %d bytes, %v: want EOF (closed by the server)", n, err)
	}
}

// Parts of the golden request, after pidgin-sipe's CRED_REQUEST_XML
// (sipe-media.c) sent through a Front End that added its Via.
const (
	mrasURI   = "sip:MRASLoc.edge.example.com@example.com"
	userURI   = "sip:alice@example.com"
	viaProxy  = "SIP/2.0/TLS 192.0.2.20:5061;branch=z9hG4bKfe1;ms-internal-info=\"x\""
	viaClient = "SIP/2.0/TLS 192.0.2.10:49152;branch=z9hG4bKcl1;ms-received-port=49152;ms-received-cid=100"
	fromUser  = "<" + userURI + ">;tag=a1b2c3;epid=01010101"
	toMRAS    = "<" + mrasURI + ">"
	callID    = "7c3f5d2e9a@192.0.2.10"
)

// credRequest returns one credentialsRequest as sipe writes it; empty
// location or duration leave the element out.
func credRequest(id, identity, location, duration string) string {
	s := "  <credentialsRequest credentialsRequestID=\"" + id + "\">\n    <identity>" + identity + "</identity>\n"
	if location != "" {
		s += "    <location>" + location + "</location>\n"
	}
	if duration != "" {
		s += "    <duration>" + duration + "</duration>\n"
	}
	return s + "  </credentialsRequest>\n"
}

// mrasDoc returns a request document holding creds.
func mrasDoc(requestID string, creds ...string) string {
	return "<request requestID=\"" + requestID + "\" from=\"" + userURI + "\" version=\"1.0\" to=\"" + mrasURI + "\"\n" +
		"         xmlns=\"http://schemas.microsoft.com/2006/09/sip/mrasp\"\n" +
		"         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n" + strings.Join(creds, "") + "</request>\n"
}

// sipMessage returns a request with the golden header fields; cseq is its
// CSeq number.
func sipMessage(method, contentType, body string, cseq int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, mrasURI)
	fmt.Fprintf(&b, "Via: %s\r\nVia: %s\r\n", viaProxy, viaClient)
	b.WriteString("Max-Forwards: 69\r\n")
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n", fromUser, toMRAS, callID, cseq, method)
	if contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", contentType)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

// goldenRequest is sipe's request for alice on the internet, 480 minutes.
func goldenRequest(cseq int) string {
	return sipMessage("SERVICE", mrasContentType, mrasDoc("1", credRequest("1", userURI, "internet", "480")), cseq)
}
