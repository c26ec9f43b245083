package auth

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of a users file: it is read whole, at start and on every change.
const (
	// MaxUsersFileSize bounds the file (16 MiB: some 200,000 users).
	MaxUsersFileSize = 16 << 20
	// maxUsernameLen is RFC 8489 §14.3: USERNAME "MUST contain a
	// UTF-8-encoded sequence of fewer than 509 bytes".
	maxUsernameLen = 508
)

// ParseUsersFile reads the long-term users of a users file, data, named
// name in errors: one user a line, "username:realm:key", where key is
// either coturn's HA1 key as turnadmin -k prints it ("0x" and 32
// hexadecimal digits, MD5(username:realm:password)) or the password
// itself. Blank lines and lines starting with '#' are skipped. realm is the
// edge's realm: a line of another realm is an error, as its key could never
// match. The username may not contain ':'; the password may. An error
// names the file and line and wraps ErrBadUsersFile; it never quotes a
// key.
func ParseUsersFile(name string, data []byte, realm string) (map[string]Credential, error) {
	if len(data) > MaxUsersFileSize {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrBadUsersFile, name, MaxUsersFileSize)
	}
	users := make(map[string]Credential)
	seen := make(map[string]int)
	for i, line := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		s := strings.TrimSuffix(string(line), "\r")
		if t := strings.TrimSpace(s); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%w: %s:%d: %s", ErrBadUsersFile, name, n, fmt.Sprintf(format, args...))
		}
		user, rest, ok1 := strings.Cut(s, ":")
		lineRealm, key, ok2 := strings.Cut(rest, ":")
		switch {
		case !ok1 || !ok2:
			return nil, fail("not username:realm:key")
		case user == "":
			return nil, fail("empty username")
		case len(user) > maxUsernameLen || !utf8.ValidString(user) || strings.ContainsFunc(user, unicode.IsControl):
			return nil, fail("username %q: not a USERNAME (UTF-8 without control characters, fewer than 509 bytes)", user)
		case lineRealm != realm:
			// Not quoted: in a line without its realm, this field is
			// part of the password.
			return nil, fail("the realm field is not the edge's realm %q: its key could never match (username:realm:key)", realm)
		case key == "":
			return nil, fail("user %q: empty key", user)
		}
		if j, dup := seen[user]; dup {
			return nil, fail("user %q again (line %d)", user, j)
		}
		seen[user] = n
		c, err := parseKey(key)
		if err != nil {
			return nil, fail("user %q: %v", user, err)
		}
		users[user] = c
	}
	return users, nil
}

// parseKey reads the key of a users file line: "0x" and 32 hexadecimal
// digits is an HA1 key, anything else a password.
func parseKey(key string) (Credential, error) {
	if !strings.HasPrefix(key, "0x") && !strings.HasPrefix(key, "0X") {
		return Credential{Password: key}, nil
	}
	ha1, ok := ParseHA1(key)
	if !ok {
		return Credential{}, fmt.Errorf("an HA1 key is 0x and 32 hexadecimal digits (turnadmin -k); a password may not start with 0x")
	}
	return Credential{HA1: ha1}, nil
}

// ParseHA1 reads an HA1 key (MD5(username:realm:password)): 32
// hexadecimal digits, with or without "0x" in front, as turnadmin -k
// prints it and coturn's user database stores it.
func ParseHA1(s string) ([]byte, bool) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	ha1, err := hex.DecodeString(s)
	return ha1, err == nil && len(ha1) == 16
}
