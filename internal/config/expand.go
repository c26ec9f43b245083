package config

import "strings"

// expand replaces each ${NAME} in s with the value of the environment
// variable NAME, and $${ with a literal ${. NAME is a letter or underscore
// followed by letters, digits and underscores. A variable that is not set
// is an error naming it, so that a node whose environment lacks it does not
// start with an empty address; the value of s itself is never echoed, as it
// may be a secret.
func (p *parser) expand(e entry, s string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' {
			// $${ is a literal ${.
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", p.fail(e, "unterminated ${ (write $${ for a literal ${)")
		}
		name := s[i+2 : i+2+end]
		if !envName(name) {
			return "", p.fail(e, "${%s}: not a variable name (letters, digits and _, not starting with a digit)", name)
		}
		val, ok := p.env(name)
		if !ok {
			return "", p.fail(e, "environment variable %s is not set", name)
		}
		b.WriteString(val)
		s = s[i+2+end+1:]
	}
}

// envName reports whether s is a valid environment variable name in a
// ${NAME} reference.
func envName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// noEnv is the environment of Parse: no variable is set.
func noEnv(string) (string, bool) { return "", false }
