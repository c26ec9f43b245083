package libnice

import (
	"bufio"
	"crypto/tls"
	"encoding/xml"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/edgetest"
	"github.com/avedge/avedge/internal/server"
)

// mrasResponse is the part of an MRAS answer ([MS-AVEDGEA] §2.2.3) the
// test reads.
type mrasResponse struct {
	XMLName      xml.Name `xml:"http://schemas.microsoft.com/2006/09/sip/mrasp response"`
	ReasonPhrase string   `xml:"reasonPhrase,attr"`
	Credentials  []struct {
		Username string `xml:"credentials>username"`
		Password string `xml:"credentials>password"`
		Duration int    `xml:"credentials>duration"`
		Realm    string `xml:"credentials>realm"`
		Relays   []struct {
			Location string `xml:"location"`
			HostName string `xml:"hostName"`
			DirectIP string `xml:"directIPAddress"`
			UDPPort  int    `xml:"udpPort"`
			TCPPort  int    `xml:"tcpPort"`
		} `xml:"mediaRelayList>mediaRelay"`
	} `xml:"credentialsResponse"`
}

// mrasRequest is a SIP SERVICE as a Lync front end relays it for a client
// (the body after pidgin-sipe's template, sipe-media.c).
func mrasRequest(identity string) string {
	body := `<request requestID="7" from="` + identity + `" version="1.0" to="sip:MRASLoc.edge.example.com@example.com" ` +
		`xmlns="http://schemas.microsoft.com/2006/09/sip/mrasp" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
		`<credentialsRequest credentialsRequestID="7"><identity>` + identity + `</identity>` +
		`<location>internet</location><duration>480</duration></credentialsRequest></request>`
	return "SERVICE sip:MRASLoc.edge.example.com@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/TLS 192.0.2.20:5061;branch=z9hG4bKmras1\r\n" +
		"From: <" + identity + ">;tag=f1\r\n" +
		"To: <sip:MRASLoc.edge.example.com@example.com>\r\n" +
		"Call-ID: mras-e2e-1\r\n" +
		"CSeq: 1 SERVICE\r\n" +
		"Content-Type: application/msrtc-media-relay-auth+xml\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// askMRAS sends an MRAS request for identity to the edge's credential
// service over mutual TLS, as a trusted front end, and returns the status
// line and the decoded answer.
func askMRAS(t *testing.T, e *edgetest.Edge, identity string) (string, mrasResponse) {
	t.Helper()
	u, err := url.Parse(e.ServiceURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", u.Host, e.ServiceTLS(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, mrasRequest(identity)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	length := -1
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if name, value, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			if length, err = strconv.Atoi(strings.TrimSpace(value)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if length < 0 {
		t.Fatalf("%s: no Content-Length", status)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(br, body); err != nil {
		t.Fatal(err)
	}
	var r mrasResponse
	if err := xml.Unmarshal(body, &r); err != nil {
		t.Fatalf("%s: %v in %s", status, err, body)
	}
	return strings.TrimRight(status, "\r\n"), r
}

// TestMRASCredentials: a front end asks the edge's credential service for
// a user's relay credentials with MRAS (SIP SERVICE over mutual TLS,
// [MS-AVEDGEA]); the base64 username and password of the answer, handed
// to libnice as they are, authenticate its MS-TURN Allocates, and its two
// agents complete ICE relay to relay through the relays the answer names,
// over UDP and pseudo-TLS.
func TestMRASCredentials(t *testing.T) {
	t.Parallel()
	e, ports := startEdge(t, false)
	status, r := askMRAS(t, e, "sip:alice@example.com")
	if status != "SIP/2.0 200 OK" || r.ReasonPhrase != "OK" || len(r.Credentials) != 1 {
		t.Fatalf("%s, reasonPhrase %q, %d credentials", status, r.ReasonPhrase, len(r.Credentials))
	}
	cred := r.Credentials[0]
	if cred.Duration != 480 || cred.Realm != e.Realm {
		t.Errorf("duration %d minutes, realm %q; want 480 and %q", cred.Duration, cred.Realm, e.Realm)
	}
	// The media relays for internet clients: where the UDP and the TCP
	// (TLS, which also takes pseudo-TLS) listeners are.
	var udp, tcp []int
	for _, rl := range cred.Relays {
		if rl.Location != "internet" {
			t.Errorf("relay %+v for another location", rl)
		}
		if rl.UDPPort != 0 {
			udp = append(udp, rl.UDPPort)
		}
		if rl.TCPPort != 0 {
			tcp = append(tcp, rl.TCPPort)
		}
	}
	if fmt.Sprint(udp) != fmt.Sprint([]int{int(e.UDP.Port())}) || !containsPort(tcp, e.TLS.Port()) {
		t.Fatalf("relays %+v: want UDP %v and the TLS port %d", cred.Relays, e.UDP, e.TLS.Port())
	}
	for _, rt := range relayTypes {
		if rt.name == "tcp" {
			continue // the answer names the TLS port for TCP: pseudo-TLS covers it
		}
		t.Run(rt.name, func(t *testing.T) {
			port := udp[0]
			if rt.name == "tls" {
				port = int(e.TLS.Port())
			}
			res := runAgentsEncoded(t, rt, netip.AddrPortFrom(e.RelayAddr(), uint16(port)), cred.Username, cred.Password)
			if res.Outcome != outcomeOK {
				t.Fatalf("outcome %q, want %q", res.Outcome, outcomeOK)
			}
			for i, a := range res.Agents {
				if a.Received != messages {
					t.Errorf("agent %d: received %d messages, want %d", i, a.Received, messages)
				}
				checkRelayPair(t, i, a.Selected, rt, e.RelayAddr().String(), ports)
			}
		})
	}
	if ok := e.Stats().Authenticated(server.AuthOK); ok < 4 {
		t.Errorf("%d authenticated requests, want at least the four Allocates", ok)
	}
}

// containsPort reports whether ports holds p.
func containsPort(ports []int, p uint16) bool {
	for _, q := range ports {
		if q == int(p) {
			return true
		}
	}
	return false
}
