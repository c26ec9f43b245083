package mras

import (
	"strconv"
	"strings"
)

// sipResponse is the answer to a SIP request.
type sipResponse struct {
	status int
	// headers are header fields written after those copied from the
	// request: Allow, Accept, Retry-After.
	headers []sipHeader
	// body is an MRAS XML document, or nil for none.
	body []byte
	// close asks for the connection to be closed once the response is
	// written.
	close bool
}

// sipHeader is one header field of a response.
type sipHeader struct{ name, value string }

// sipReason returns the reason phrase of a status this server sends (RFC
// 3261 §21).
func sipReason(status int) string {
	switch status {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 405:
		return "Method Not Allowed"
	case 413:
		return "Request Entity Too Large"
	case 415:
		return "Unsupported Media Type"
	case 503:
		return "Service Unavailable"
	case 513:
		return "Message Too Large"
	default:
		return "Server Internal Error"
	}
}

// appendSIPResponse appends resp to dst as the answer to req, which is nil
// when the request could not be read. As RFC 3261 §8.2.6.2 asks, the
// response copies the request's Via header fields in order, its From,
// Call-ID and CSeq, and its To, with tag added when To has none. The
// body, if any, is an MRAS document (Content-Type
// application/msrtc-media-relay-auth+xml).
func appendSIPResponse(dst []byte, req *sipRequest, resp sipResponse, tag string) []byte {
	dst = append(dst, sipVersion+" "...)
	dst = strconv.AppendInt(dst, int64(resp.status), 10)
	dst = append(dst, ' ')
	dst = append(dst, sipReason(resp.status)...)
	dst = append(dst, "\r\n"...)
	field := func(name, value string) {
		dst = append(dst, name...)
		dst = append(dst, ": "...)
		dst = append(dst, value...)
		dst = append(dst, "\r\n"...)
	}
	if req != nil {
		for _, v := range req.via {
			field("Via", v)
		}
		for _, v := range req.from {
			field("From", v)
		}
		for _, v := range req.to {
			if !hasSIPTag(v) {
				v += ";tag=" + tag
			}
			field("To", v)
		}
		for _, v := range req.callID {
			field("Call-ID", v)
		}
		for _, v := range req.cseq {
			field("CSeq", v)
		}
	}
	for _, h := range resp.headers {
		field(h.name, h.value)
	}
	if resp.body != nil {
		field("Content-Type", mrasContentType)
	}
	field("Content-Length", strconv.Itoa(len(resp.body)))
	dst = append(dst, "\r\n"...)
	return append(dst, resp.body...)
}

// hasSIPTag reports whether a To or From value carries a tag parameter.
// The parameters follow the name-addr's closing '>', or, in the
// addr-spec form, the URI, which then holds no ';' (RFC 3261 §20.10).
func hasSIPTag(v string) bool {
	if i := strings.LastIndexByte(v, '>'); i >= 0 {
		v = v[i+1:]
	} else if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[i:]
	} else {
		return false
	}
	for p := range strings.SplitSeq(v, ";") {
		name, _, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.Trim(name, " \t"), "tag") {
			return true
		}
	}
	return false
}
