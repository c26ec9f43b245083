package mras

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/avedge/avedge/internal/credsvc"
)

// Request is what Ask asks for on behalf of a user, as a Lync or Skype
// for Business front end does.
type Request struct {
	// Identity is the user, normally a SIP URI ("sip:alice@example.com").
	Identity string
	// Location is where the user is; empty means Internet.
	Location credsvc.Location
	// Duration is the credential's lifetime, in whole minutes; 0 asks for
	// the service's default (480 minutes, or its max_ttl if shorter).
	Duration time.Duration
}

// Credentials is the answer to an MRAS request: the credential as a Lync
// client receives it and the media relays it is for.
type Credentials struct {
	// Username and Password are base64, as in the MRAS document; clients
	// decode them and use the bytes in MS-TURN.
	Username string `json:"username"`
	Password string `json:"password"`
	// Minutes is the credential's lifetime.
	Minutes int `json:"duration_minutes"`
	// Realm is the relay's REALM.
	Realm string `json:"realm"`
	// Relays are the media relays of the requested location.
	Relays []Relay `json:"relays"`
}

// Relay is one media relay of an MRAS answer.
type Relay struct {
	// Location is the location whose clients are given the relay.
	Location credsvc.Location `json:"location"`
	// Host is its host name or IP address.
	Host string `json:"host"`
	// UDPPort and TCPPort are its MS-TURN ports; 0 when not offered.
	UDPPort int `json:"udp_port,omitempty"`
	TCPPort int `json:"tcp_port,omitempty"`
}

// mrasClientURI is the Request-URI and To of the requests Ask sends: the edge's MRAS URI as front ends address it.
const mrasClientURI = "sip:MRASLoc@avedge.invalid"

// maxAnswer bounds the answer read from the service.
const maxAnswer = 64 << 10

// Ask asks the credential service of client for a credential with MRAS
// ([MS-AVEDGEA]): a SIP SERVICE request over mutual TLS to the service's
// port, what a Lync front end sends. The client's timeout bounds the
// exchange. A SIP status other than 200, or a 200 whose reasonPhrase is
// not "OK", is credsvc.ErrRefused with the status and the phrase.
func Ask(ctx context.Context, client *credsvc.Client, req Request) (*Credentials, error) {
	body, err := mrasRequestBody(req)
	if err != nil {
		return nil, err
	}
	conn, err := client.DialTLS(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	var tag [8]byte
	_, _ = rand.Read(tag[:]) // never fails (crypto/rand)
	id := hex.EncodeToString(tag[:])
	from := "<" + mrasClientURI + ">"
	if strings.HasPrefix(req.Identity, "sip:") {
		from = "<" + req.Identity + ">"
	}
	head := "SERVICE " + mrasClientURI + " SIP/2.0\r\n" +
		"Via: SIP/2.0/TLS avedge.invalid;branch=z9hG4bK" + id + "\r\n" +
		"From: " + from + ";tag=" + id + "\r\n" +
		"To: <" + mrasClientURI + ">\r\n" +
		"Call-ID: " + id + "\r\n" +
		"CSeq: 1 SERVICE\r\n" +
		"Content-Type: " + mrasContentType + "\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := io.WriteString(conn, head+string(body)); err != nil {
		return nil, fmt.Errorf("mras: %w", err)
	}
	status, doc, err := readMRASAnswer(bufio.NewReader(conn))
	if err != nil {
		return nil, err
	}
	return mrasCredentialsOf(status, doc)
}

// mrasRequestBody is the request document for req, in pidgin-sipe's
// layout.
func mrasRequestBody(req Request) ([]byte, error) {
	type credentialsRequest struct {
		ID       string           `xml:"credentialsRequestID,attr"`
		Identity string           `xml:"identity"`
		Location credsvc.Location `xml:"location,omitempty"`
		Duration int              `xml:"duration,omitempty"`
	}
	doc := struct {
		XMLName     xml.Name           `xml:"http://schemas.microsoft.com/2006/09/sip/mrasp request"`
		RequestID   string             `xml:"requestID,attr"`
		Version     string             `xml:"version,attr"`
		Credentials credentialsRequest `xml:"credentialsRequest"`
	}{RequestID: "1", Version: "1.0", Credentials: credentialsRequest{
		ID: "1", Identity: req.Identity, Location: req.Location, Duration: int(req.Duration / time.Minute)}}
	b, err := xml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("mras: request: %w", err)
	}
	return b, nil
}

// readMRASAnswer reads a SIP response and its MRAS document (none for
// 405 and 415) from br, at most maxAnswer bytes of it.
func readMRASAnswer(br *bufio.Reader) (status string, doc *mrasResponse, err error) {
	tp := textproto.NewReader(bufio.NewReader(io.LimitReader(br, maxAnswer)))
	line, err := tp.ReadLine()
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		return "", nil, fmt.Errorf("mras: the service closed the connection without an answer "+
			"(as it does for a client certificate it does not trust): %w", err)
	}
	if err != nil {
		return "", nil, fmt.Errorf("mras: read answer: %w", err)
	}
	status, ok := strings.CutPrefix(line, "SIP/2.0 ")
	if !ok {
		return "", nil, fmt.Errorf("%w: status line %q", credsvc.ErrBadResponse, line)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", credsvc.ErrBadResponse, err)
	}
	n, err := strconv.Atoi(hdr.Get("Content-Length"))
	if err != nil || n < 0 || n > maxAnswer {
		return "", nil, fmt.Errorf("%w: %s with Content-Length %q", credsvc.ErrBadResponse, status, hdr.Get("Content-Length"))
	}
	if n == 0 {
		return status, nil, nil
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(tp.R, body); err != nil {
		return "", nil, fmt.Errorf("mras: read answer: %w", err)
	}
	doc = new(mrasResponse)
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(doc); err != nil {
		return "", nil, fmt.Errorf("%w: %s: %w", credsvc.ErrBadResponse, status, err)
	}
	return status, doc, nil
}

// mrasCredentialsOf turns an MRAS answer into Credentials, or the
// refusal it is.
func mrasCredentialsOf(status string, doc *mrasResponse) (*Credentials, error) {
	phrase := ""
	if doc != nil {
		phrase = doc.ReasonPhrase
	}
	if !strings.HasPrefix(status, "200 ") || phrase != mrasOK {
		return nil, fmt.Errorf("%w: SIP %s, reasonPhrase %q", credsvc.ErrRefused, status, phrase)
	}
	if len(doc.Credentials) != 1 || doc.Credentials[0].Credentials.Username == "" {
		return nil, fmt.Errorf("%w: %d credentials", credsvc.ErrBadResponse, len(doc.Credentials))
	}
	cr := doc.Credentials[0]
	out := &Credentials{Username: cr.Credentials.Username, Password: cr.Credentials.Password,
		Minutes: cr.Credentials.Duration, Realm: cr.Credentials.Realm}
	for _, r := range cr.Relays {
		host := r.HostName
		if host == "" {
			host = r.DirectIPAddress
		}
		out.Relays = append(out.Relays, Relay{Location: r.Location, Host: host, UDPPort: r.UDPPort, TCPPort: r.TCPPort})
	}
	return out, nil
}
