package mras

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	// maxSIPHeader bounds a SIP request's start line and header fields,
	// CRLFs included.
	maxSIPHeader = 8 << 10
	// maxSIPBody bounds a SIP request's body; MRAS asks for at most 100
	// credentials, a few KiB.
	maxSIPBody = 64 << 10
	// sipVersion is the only SIP version spoken (RFC 3261 §7.1).
	sipVersion = "SIP/2.0"
)

// Errors of the SIP request reader. Each leaves the stream at an unknown
// position, so the connection is answered (when it can be) and closed.
var (
	// errSIPMalformed means the start line or a header field cannot be
	// parsed, or the body's length is missing or invalid: 400.
	errSIPMalformed = errors.New("malformed SIP request")
	// errSIPHeaderTooLarge means the start line and header fields exceed
	// maxSIPHeader: 513 Message Too Large (RFC 3261 §21.5.12).
	errSIPHeaderTooLarge = errors.New("SIP header larger than 8 KiB")
	// errSIPBodyTooLarge means Content-Length exceeds maxSIPBody: 413
	// Request Entity Too Large (RFC 3261 §21.4.11).
	errSIPBodyTooLarge = errors.New("SIP body larger than 64 KiB")
)

// sipRequest is a SIP request as read from a stream: the header fields a
// response copies, and the body. Other header fields are checked for
// syntax and dropped.
type sipRequest struct {
	method, uri string
	// via holds the Via header fields in order, each as received (one
	// field may hold several comma-separated values).
	via []string
	// from, to, callID, cseq and contentType hold every occurrence of
	// their header field; a valid request has exactly one of each (see
	// check), but a response copies what there is.
	from, to, callID, cseq, contentType []string
	body                                []byte
}

// sipHeaderName returns the canonical name of a header field this server
// keeps, from its full or compact form (RFC 3261 §7.3.3, §20), or "" for
// another field. Names are compared without regard to case.
func sipHeaderName(name string) string {
	switch strings.ToLower(name) {
	case "via", "v":
		return "Via"
	case "from", "f":
		return "From"
	case "to", "t":
		return "To"
	case "call-id", "i":
		return "Call-ID"
	case "cseq":
		return "CSeq"
	case "content-length", "l":
		return "Content-Length"
	case "content-type", "c":
		return "Content-Type"
	}
	return ""
}

// readSIPRequest reads one request from br: the start line and header
// fields, at most maxSIPHeader bytes ending with an empty line, each line
// ending with CRLF (RFC 3261 §7), and a body of exactly Content-Length
// bytes, which a stream transport requires (RFC 3261 §18.3, §20.14). Line
// folding, obsolete since RFC 3261 §7.3.1 allows it only as a
// compatibility form, is refused. The request returned with
// errSIPBodyTooLarge carries its header fields, so that the refusal can
// be answered. I/O errors are returned as they come.
func readSIPRequest(br *bufio.Reader) (*sipRequest, error) {
	budget := maxSIPHeader
	line, err := readSIPLine(br, &budget)
	if err != nil {
		return nil, err
	}
	req := &sipRequest{}
	if req.method, req.uri, err = parseRequestLine(line); err != nil {
		return nil, err
	}
	length := -1
	for {
		line, err := readSIPLine(br, &budget)
		if err != nil {
			return nil, err
		}
		if line == "" {
			break
		}
		name, value, err := parseHeaderLine(line)
		if err != nil {
			return nil, err
		}
		switch sipHeaderName(name) {
		case "Via":
			req.via = append(req.via, value)
		case "From":
			req.from = append(req.from, value)
		case "To":
			req.to = append(req.to, value)
		case "Call-ID":
			req.callID = append(req.callID, value)
		case "CSeq":
			req.cseq = append(req.cseq, value)
		case "Content-Type":
			req.contentType = append(req.contentType, value)
		case "Content-Length":
			if length >= 0 {
				return nil, fmt.Errorf("%w: Content-Length given twice", errSIPMalformed)
			}
			if length, err = parseContentLength(value); err != nil {
				if !errors.Is(err, errSIPBodyTooLarge) {
					return nil, err
				}
				// Read on: the refusal copies the header fields.
				length = maxSIPBody + 1
			}
		}
	}
	if length < 0 {
		return nil, fmt.Errorf("%w: no Content-Length (required on a stream transport, RFC 3261 §18.3)", errSIPMalformed)
	}
	if length > maxSIPBody {
		return req, errSIPBodyTooLarge
	}
	req.body = make([]byte, length)
	if _, err := io.ReadFull(br, req.body); err != nil {
		return nil, err
	}
	return req, nil
}

// readSIPLine reads one CRLF-terminated line and returns it without the
// CRLF, charging it to budget.
func readSIPLine(br *bufio.Reader, budget *int) (string, error) {
	b, err := br.ReadSlice('\n')
	if len(b) > *budget || errors.Is(err, bufio.ErrBufferFull) {
		return "", errSIPHeaderTooLarge
	}
	if err != nil {
		return "", err
	}
	*budget -= len(b)
	if len(b) < 2 || b[len(b)-2] != '\r' {
		return "", fmt.Errorf("%w: line not ended by CRLF", errSIPMalformed)
	}
	b = b[:len(b)-2]
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%w: not UTF-8", errSIPMalformed)
	}
	for _, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return "", fmt.Errorf("%w: control character in a line", errSIPMalformed)
		}
	}
	return string(b), nil
}

// parseRequestLine splits "Method SP Request-URI SP SIP-Version" (RFC 3261
// §7.1): the method a token, the URI free of white space, the version
// SIP/2.0 (compared without regard to case).
func parseRequestLine(line string) (method, uri string, err error) {
	parts := strings.Split(line, " ")
	if len(parts) != 3 || !isSIPToken(parts[0]) || parts[1] == "" || strings.ContainsRune(parts[1], '\t') ||
		!strings.EqualFold(parts[2], sipVersion) {
		return "", "", fmt.Errorf("%w: request line %q", errSIPMalformed, truncate(line))
	}
	return parts[0], parts[1], nil
}

// parseHeaderLine splits "name HCOLON value" (RFC 3261 §7.3.1, HCOLON
// being *(SP / HTAB) ":" SWS); the value loses its surrounding white
// space. A line starting with white space (a folded continuation) is
// refused.
func parseHeaderLine(line string) (name, value string, err error) {
	name, value, ok := strings.Cut(line, ":")
	name = strings.TrimRight(name, " \t")
	if !ok || !isSIPToken(name) {
		return "", "", fmt.Errorf("%w: header line %q", errSIPMalformed, truncate(line))
	}
	return name, strings.Trim(value, " \t"), nil
}

// parseContentLength parses a Content-Length value, 1*DIGIT (RFC 3261
// §20.14); one of more digits than maxSIPBody has is errSIPBodyTooLarge,
// however long.
func parseContentLength(v string) (int, error) {
	if v == "" {
		return 0, fmt.Errorf("%w: empty Content-Length", errSIPMalformed)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("%w: Content-Length %q", errSIPMalformed, truncate(v))
		}
	}
	v = strings.TrimLeft(v, "0")
	if len(v) > len(strconv.Itoa(maxSIPBody)) {
		return 0, errSIPBodyTooLarge
	}
	n, _ := strconv.Atoi("0" + v) // digits only, at most 5 of them
	return n, nil
}

// check reports what makes an otherwise readable request invalid: a
// missing or repeated From, To, Call-ID or CSeq, no Via (RFC 3261 §8.1.1
// makes them mandatory), more than one Content-Type, or a CSeq that is not
// "number method" with the request's method (RFC 3261 §20.16).
func (r *sipRequest) check() error {
	if len(r.via) == 0 || slices.Contains(r.via, "") {
		return fmt.Errorf("%w: no Via", errSIPMalformed)
	}
	for _, h := range []struct {
		name   string
		values []string
	}{{"From", r.from}, {"To", r.to}, {"Call-ID", r.callID}, {"CSeq", r.cseq}} {
		if len(h.values) != 1 || h.values[0] == "" {
			return fmt.Errorf("%w: %d %s header fields, want one", errSIPMalformed, len(h.values), h.name)
		}
	}
	if len(r.contentType) > 1 {
		return fmt.Errorf("%w: Content-Type given twice", errSIPMalformed)
	}
	f := strings.Fields(r.cseq[0])
	if len(f) != 2 || len(f[0]) > 10 || strings.Trim(f[0], "0123456789") != "" || f[1] != r.method {
		return fmt.Errorf("%w: CSeq %q does not match the request", errSIPMalformed, truncate(r.cseq[0]))
	}
	return nil
}

// isSIPToken reports whether s is a token (RFC 3261 §25.1): alphanumerics
// and -.!%*_+`'~.
func isSIPToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isSIPTokenByte(s[i]) {
			return false
		}
	}
	return true
}

// isSIPTokenByte reports whether c may appear in a token.
func isSIPTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("-.!%*_+`'~", c) >= 0
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
