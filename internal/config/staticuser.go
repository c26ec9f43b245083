package config

import (
	"encoding/json"
	"strings"
	"unicode"
)

// StaticUser is a fixed long-term credential (RFC 8489 §9.2). Static users
// are meant for development and tests; Config.Warnings reports them.
type StaticUser struct {
	// Username is the USERNAME value.
	Username string
	// Password is the password the HMAC key is derived from.
	Password string
}

// maxUsernameLen is RFC 8489 §14.3: USERNAME "MUST contain a UTF-8-encoded
// sequence of fewer than 509 bytes".
const maxUsernameLen = 508

// MarshalJSON writes u with its password replaced by "REDACTED".
func (u StaticUser) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}{u.Username, redact(u.Password)})
}

// String returns the user name and "REDACTED", never the password.
func (u StaticUser) String() string { return u.Username + ":REDACTED" }

// staticUsers decodes auth.static_users, refusing duplicate user names.
func (p *parser) staticUsers(e entry, dst *[]StaticUser) error {
	items, err := p.list(e)
	if err != nil {
		return err
	}
	names := make(map[string]int, len(items))
	for i, item := range items {
		u, err := p.staticUser(item)
		if err != nil {
			return err
		}
		if j, dup := names[u.Username]; dup {
			return p.failAt(p.where(item.path+".username"), item.path+".username",
				"%q: duplicate user (see auth.static_users[%d])", u.Username, j)
		}
		names[u.Username] = i
		*dst = append(*dst, u)
	}
	if len(items) > 0 {
		p.warn(e.path, "static users are for development and tests; use ephemeral credentials (auth.secrets) in production")
	}
	return nil
}

// staticUser decodes one static user.
func (p *parser) staticUser(e entry) (StaticUser, error) {
	var u StaticUser
	seen, err := p.mapping(e, []field{
		{"username", func(e entry) error {
			s, err := p.str(e)
			if err != nil {
				return err
			}
			switch {
			case s == "":
				return p.fail(e, "must not be empty")
			case len(s) > maxUsernameLen:
				return p.fail(e, "too long (%d bytes): RFC 8489 §14.3 allows fewer than 509", len(s))
			case strings.ContainsFunc(s, unicode.IsControl):
				return p.fail(e, "%q: must not contain control characters", s)
			}
			u.Username = s
			return nil
		}},
		{"password", func(e entry) error {
			s, err := p.literal(e)
			if err == nil && s == "" {
				err = p.fail(e, "must not be empty")
			}
			p.inline = append(p.inline, e.path)
			u.Password = s
			return err
		}},
	})
	if err != nil {
		return StaticUser{}, err
	}
	return u, p.require(e, seen, "username", "password")
}
