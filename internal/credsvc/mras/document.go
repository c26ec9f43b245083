package mras

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/avedge/avedge/internal/credsvc"
)

// MRAS documents live in the XML namespace
// http://schemas.microsoft.com/2006/09/sip/mrasp ([MS-AVEDGEA] 2.2), which
// the struct tags below spell out.
const (
	// mrasContentType is the media type of MRAS documents.
	mrasContentType = "application/msrtc-media-relay-auth+xml"
	// maxMRASCredentials bounds the credentialsRequest elements of one
	// request.
	maxMRASCredentials = 100
	// maxMRASID bounds requestID and credentialsRequestID, in bytes.
	maxMRASID = 64
	// mrasVersion is the version and serverVersion of responses.
	mrasVersion = "2.0"
)

// Errors of parseMRASRequest; mrasPhrase maps them to reasonPhrases.
var (
	// errMRASMalformed means the document is not a valid MRAS request:
	// "Request Malformed".
	errMRASMalformed = errors.New("malformed MRAS request")
	// errMRASVersion means the request's major version is neither 1 nor
	// 2: "Version Mismatch".
	errMRASVersion = errors.New("unsupported MRAS version")
	// errMRASTooLarge means more than 100 credentialsRequest elements:
	// "Request Too Large".
	errMRASTooLarge = errors.New("more than 100 credentialsRequest elements")
)

// mrasRequest is the <request> document of an MRAS SERVICE request
// ([MS-AVEDGEA] 2.2.3.1).
type mrasRequest struct {
	XMLName     xml.Name                 `xml:"http://schemas.microsoft.com/2006/09/sip/mrasp request"`
	RequestID   string                   `xml:"requestID,attr"`
	Version     string                   `xml:"version,attr"`
	To          string                   `xml:"to,attr"`
	From        string                   `xml:"from,attr"`
	Route       *string                  `xml:"route,attr"`
	Credentials []mrasCredentialsRequest `xml:"http://schemas.microsoft.com/2006/09/sip/mrasp credentialsRequest"`
	Text        string                   `xml:",chardata"`
	Unknown     []xml.Name               `xml:",any"`
}

// mrasCredentialsRequest is one <credentialsRequest>. Identity, Location
// and Duration are slices to tell a repeated element from one given once.
type mrasCredentialsRequest struct {
	ID       string     `xml:"credentialsRequestID,attr"`
	Identity []string   `xml:"http://schemas.microsoft.com/2006/09/sip/mrasp identity"`
	Location []string   `xml:"http://schemas.microsoft.com/2006/09/sip/mrasp location"`
	Duration []string   `xml:"http://schemas.microsoft.com/2006/09/sip/mrasp duration"`
	Text     string     `xml:",chardata"`
	Unknown  []xml.Name `xml:",any"`
}

// mrasCredential is a checked credentialsRequest.
type mrasCredential struct {
	id, identity string
	location     credsvc.Location
	// minutes is the lifetime asked for, cut to maxMinutes.
	minutes int
}

// parseMRASRequest decodes body, an MRAS request document, and checks it,
// cutting each duration to maxMinutes (absent: maxMinutes). On error the
// request holds what could be decoded (nil if nothing), so that the
// failure response can echo its requestID, to and from. Element and
// attribute names are those of the schema as OfficeSIP and pidgin-sipe
// encode it: request (requestID, version, to, from, route) holding 1 to
// 100 credentialsRequest (credentialsRequestID) elements, each with one
// identity and at most one location (internet or intranet; absent:
// internet) and one duration (a positive integer of minutes). Unknown
// elements and text outside the leaf elements are refused; unknown
// attributes, such as namespace declarations, are ignored.
func parseMRASRequest(body []byte, maxMinutes int) (*mrasRequest, []mrasCredential, error) {
	var req mrasRequest
	// A byte order mark may start a UTF-8 document (XML 1.0 §4.3.3).
	dec := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(body, []byte("\uFEFF"))))
	start, err := xmlProlog(dec)
	if err != nil {
		return nil, nil, err
	}
	if err := dec.DecodeElement(&req, &start); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errMRASMalformed, err)
	}
	if err := xmlTrailer(dec); err != nil {
		return &req, nil, err
	}
	if err := checkMRASVersion(req.Version); err != nil {
		return &req, nil, err
	}
	switch {
	case req.RequestID == "" || len(req.RequestID) > maxMRASID:
		return &req, nil, fmt.Errorf("%w: requestID must be 1 to %d bytes", errMRASMalformed, maxMRASID)
	case req.Route != nil && *req.Route != "loadbalanced" && *req.Route != "directip":
		return &req, nil, fmt.Errorf("%w: route must be loadbalanced or directip", errMRASMalformed)
	case strings.TrimSpace(req.Text) != "" || len(req.Unknown) > 0:
		return &req, nil, fmt.Errorf("%w: unknown content in request", errMRASMalformed)
	case len(req.Credentials) == 0:
		return &req, nil, fmt.Errorf("%w: no credentialsRequest", errMRASMalformed)
	case len(req.Credentials) > maxMRASCredentials:
		return &req, nil, errMRASTooLarge
	}
	creds := make([]mrasCredential, 0, len(req.Credentials))
	for _, cr := range req.Credentials {
		c, err := checkMRASCredentials(cr, maxMinutes)
		if err != nil {
			return &req, nil, err
		}
		creds = append(creds, c)
	}
	return &req, creds, nil
}

// xmlProlog returns the root element's start, after which only white
// space, comments and processing instructions (the XML declaration) may
// come; a document type declaration is refused.
func xmlProlog(dec *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			return xml.StartElement{}, fmt.Errorf("%w: %w", errMRASMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.Comment, xml.ProcInst:
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, fmt.Errorf("%w: text before the root element", errMRASMalformed)
			}
		default:
			return xml.StartElement{}, fmt.Errorf("%w: %T before the root element", errMRASMalformed, tok)
		}
	}
}

// xmlTrailer checks that only white space, comments and processing
// instructions follow the root element.
func xmlTrailer(dec *xml.Decoder) error {
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: after the root element: %w", errMRASMalformed, err)
		}
		switch t := tok.(type) {
		case xml.Comment, xml.ProcInst:
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return fmt.Errorf("%w: text after the root element", errMRASMalformed)
			}
		default:
			return fmt.Errorf("%w: content after the root element", errMRASMalformed)
		}
	}
}

// checkMRASVersion accepts "major.minor" with major 1 or 2, as OfficeSIP
// does; other numbers are errMRASVersion, anything else errMRASMalformed.
func checkMRASVersion(v string) error {
	major, minor, ok := strings.Cut(v, ".")
	if !ok || !isDigits(major) || !isDigits(minor) {
		return fmt.Errorf("%w: version %q is not major.minor", errMRASMalformed, truncate(v))
	}
	if m := strings.TrimLeft(major, "0"); m != "1" && m != "2" {
		return fmt.Errorf("%w: %s", errMRASVersion, truncate(v))
	}
	return nil
}

// checkMRASCredentials checks one credentialsRequest.
func checkMRASCredentials(cr mrasCredentialsRequest, maxMinutes int) (mrasCredential, error) {
	switch {
	case cr.ID == "" || len(cr.ID) > maxMRASID:
		return mrasCredential{}, fmt.Errorf("%w: credentialsRequestID must be 1 to %d bytes", errMRASMalformed, maxMRASID)
	case len(cr.Identity) != 1:
		return mrasCredential{}, fmt.Errorf("%w: %d identity elements, want one", errMRASMalformed, len(cr.Identity))
	case len(cr.Location) > 1 || len(cr.Duration) > 1:
		return mrasCredential{}, fmt.Errorf("%w: location or duration given twice", errMRASMalformed)
	case strings.TrimSpace(cr.Text) != "" || len(cr.Unknown) > 0:
		return mrasCredential{}, fmt.Errorf("%w: unknown content in credentialsRequest", errMRASMalformed)
	}
	c := mrasCredential{id: cr.ID, identity: cr.Identity[0], location: credsvc.Internet, minutes: maxMinutes}
	if len(cr.Location) == 1 {
		// An enumeration of xs:token: surrounding white space collapses.
		c.location = credsvc.Location(strings.TrimSpace(cr.Location[0]))
		if !c.location.Valid() {
			return mrasCredential{}, fmt.Errorf("%w: location %q is neither internet nor intranet", errMRASMalformed, truncate(cr.Location[0]))
		}
	}
	if len(cr.Duration) == 1 {
		m, err := parseMRASDuration(cr.Duration[0], maxMinutes)
		if err != nil {
			return mrasCredential{}, err
		}
		c.minutes = m
	}
	return c, nil
}

// parseMRASDuration parses an xs:positiveInteger of minutes (surrounding
// white space, an optional '+' and leading zeros allowed) and cuts it to
// maxMinutes, whatever its size.
func parseMRASDuration(s string, maxMinutes int) (int, error) {
	d := strings.TrimPrefix(strings.TrimSpace(s), "+")
	if !isDigits(d) {
		return 0, fmt.Errorf("%w: duration %q is not a positive integer", errMRASMalformed, truncate(s))
	}
	d = strings.TrimLeft(d, "0")
	if d == "" {
		return 0, fmt.Errorf("%w: duration 0", errMRASMalformed)
	}
	n := 0
	for i := 0; i < len(d) && n <= maxMinutes; i++ {
		n = n*10 + int(d[i]-'0')
	}
	return min(n, maxMinutes), nil
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// mrasResponse is the <response> document ([MS-AVEDGEA] 2.2.3.2); the
// attributes follow OfficeSIP's order.
type mrasResponse struct {
	XMLName       xml.Name                  `xml:"http://schemas.microsoft.com/2006/09/sip/mrasp response"`
	RequestID     string                    `xml:"requestID,attr,omitempty"`
	Version       string                    `xml:"version,attr"`
	ServerVersion string                    `xml:"serverVersion,attr"`
	To            string                    `xml:"to,attr,omitempty"`
	From          string                    `xml:"from,attr,omitempty"`
	ReasonPhrase  string                    `xml:"reasonPhrase,attr"`
	Credentials   []mrasCredentialsResponse `xml:"credentialsResponse"`
}

// mrasCredentialsResponse answers one credentialsRequest
// ([MS-AVEDGEA] 2.2.3.1.3.2).
type mrasCredentialsResponse struct {
	ID          string           `xml:"credentialsRequestID,attr"`
	Credentials mrasCredentials  `xml:"credentials"`
	Relays      []mrasMediaRelay `xml:"mediaRelayList>mediaRelay"`
}

// mrasCredentials is a credentialsType ([MS-AVEDGEA] 2.2.4.3): username
// and password are base64 of the raw bytes the client puts in TURN,
// duration is in minutes.
type mrasCredentials struct {
	Username string `xml:"username"`
	Password string `xml:"password"`
	Duration int    `xml:"duration"`
	Realm    string `xml:"realm"`
}

// mrasMediaRelay is a mediaRelayType ([MS-AVEDGEA] 2.2.4.4): location,
// either hostName or directIPAddress, then the optional ports.
type mrasMediaRelay struct {
	Location        credsvc.Location `xml:"location"`
	HostName        string           `xml:"hostName,omitempty"`
	DirectIPAddress string           `xml:"directIPAddress,omitempty"`
	UDPPort         int              `xml:"udpPort,omitempty"`
	TCPPort         int              `xml:"tcpPort,omitempty"`
}

// mrasXMLHeader starts every response document.
const mrasXMLHeader = `<?xml version="1.0" encoding="utf-8"?>`

// marshal returns the response document.
func (r *mrasResponse) marshal() ([]byte, error) {
	b, err := xml.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("credsvc: MRAS response: %w", err)
	}
	return append([]byte(mrasXMLHeader), b...), nil
}
