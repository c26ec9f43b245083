package config

import (
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// defaultSoftware is the default SOFTWARE attribute value.
	defaultSoftware = "avedge"
	// maxTextChars bounds REALM and SOFTWARE: RFC 8489 §14.9 and §14.14,
	// "fewer than 128 characters (which can be as long as 509 bytes when
	// encoding them and as long as 763 bytes when decoding them)". YAML
	// strings are valid UTF-8, and 127 characters fit in 763 bytes.
	maxTextChars = 127
	// maxWorkers bounds workers.
	maxWorkers = 256
	// maxHostLen is the longest DNS name in text form.
	maxHostLen = 253
)

// realm decodes the realm. RFC 8489 §14.9: the REALM value is "an unquoted
// realm-value (and is therefore a sequence of qdtext or quoted-pair)"; avedge
// allows no quoted-pair, so '"' and '\' are refused, as are control
// characters.
func (p *parser) realm(e entry, dst *string) error {
	s, err := p.str(e)
	if err != nil {
		return err
	}
	if s == "" {
		return p.fail(e, "must not be empty")
	}
	if err := p.text(e, s); err != nil {
		return err
	}
	if strings.ContainsAny(s, `"\`) {
		return p.fail(e, "%q: must not contain '\"' or '\\'", s)
	}
	*dst = s
	return nil
}

// software decodes the SOFTWARE value (RFC 8489 §14.14); "" disables it.
func (p *parser) software(e entry, dst *string) error {
	s, err := p.str(e)
	if err != nil {
		return err
	}
	if err := p.text(e, s); err != nil {
		return err
	}
	*dst = s
	return nil
}

// text checks the limits RFC 8489 sets on REALM and SOFTWARE values.
func (p *parser) text(e entry, s string) error {
	if n := utf8.RuneCountInString(s); n > maxTextChars {
		return p.fail(e, "too long (%d characters): RFC 8489 allows fewer than 128", n)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return p.fail(e, "%q: must not contain control characters", s)
	}
	return nil
}

// advertiseHost decodes the host name (or IP address) put in credential
// URIs.
func (p *parser) advertiseHost(e entry, dst *string) error {
	s, err := p.str(e)
	if err != nil {
		return err
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		*dst = s
		return nil
	}
	if !isHostName(s) {
		return p.fail(e, "%q: not a host name or IP address (no scheme, port or brackets)", s)
	}
	*dst = s
	return nil
}

// isHostName reports whether s is a DNS host name: dot-separated labels of
// 1 to 63 letters, digits and hyphens, not starting or ending with a hyphen.
func isHostName(s string) bool {
	if s == "" || len(s) > maxHostLen {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
