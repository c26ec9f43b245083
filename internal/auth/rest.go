package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Ephemeral credentials follow the "TURN REST API" shape used by coturn's
// use-auth-secret, Matrix, Nextcloud Talk and Jitsi:
//
//	username = "<unix-expiry-seconds>:<identity>"
//	password = base64(HMAC-SHA1(secret, username))
//
// A bare "<unix-expiry-seconds>" username is accepted too, as coturn does.

// maxIdentityLen bounds an identity in bytes.
const maxIdentityLen = 128

// maxExpiryDigits bounds the expiry field: int64 seconds have at most 19.
const maxExpiryDigits = 19

// Issue returns an ephemeral credential for identity that expires at expiry,
// signed with secret. The identity must be 1..128 bytes of printable UTF-8
// (ErrBadIdentity); the secret must be non-empty and the expiry not before
// 1970 (ErrBadSecret, ErrBadUsername).
func Issue(secret Secret, identity string, expiry time.Time) (username, password string, err error) {
	if err := ValidateIdentity(identity); err != nil {
		return "", "", err
	}
	if len(secret.Value) == 0 {
		return "", "", fmt.Errorf("%w: empty secret", ErrBadSecret)
	}
	if expiry.Unix() < 0 {
		return "", "", fmt.Errorf("%w: expiry before 1970", ErrBadUsername)
	}
	username = strconv.FormatInt(expiry.Unix(), 10) + ":" + identity
	return username, RESTPassword(secret.Value, username), nil
}

// RESTPassword returns base64std(HMAC-SHA1(secret, username)), the password
// of an ephemeral credential.
func RESTPassword(secret []byte, username string) string {
	return restPassword(hmac.New(sha1.New, secret), username)
}

// restPassword returns base64std of mac (a fresh or reset HMAC-SHA1 keyed
// with the secret) over username.
func restPassword(mac hash.Hash, username string) string {
	_, _ = io.WriteString(mac, username)
	var sum [sha1.Size]byte
	return base64.StdEncoding.EncodeToString(mac.Sum(sum[:0]))
}

// ParseUsername splits an ephemeral username at its first colon into the
// expiry (decimal Unix seconds, digits only) and the identity, which may
// itself contain colons and is empty for a bare "<expiry>". Anything else is
// ErrBadUsername.
func ParseUsername(username string) (expiry time.Time, identity string, err error) {
	ts, identity, _ := strings.Cut(username, ":")
	if ts == "" || len(ts) > maxExpiryDigits {
		return time.Time{}, "", ErrBadUsername
	}
	for i := range len(ts) {
		if ts[i] < '0' || ts[i] > '9' {
			return time.Time{}, "", ErrBadUsername
		}
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%w: %w", ErrBadUsername, err)
	}
	return time.Unix(secs, 0), identity, nil
}

// ValidateIdentity checks an identity, for Issue and for whatever names
// one (revocations): see IdentityProblem. The error matches
// ErrBadIdentity and says which rule failed, without repeating the
// identity.
func ValidateIdentity(id string) error {
	if p := IdentityProblem(id); p != "" {
		return fmt.Errorf("%w: %s", ErrBadIdentity, p)
	}
	return nil
}

// IdentityProblem returns which rule of identities id breaks, or "": an
// identity is non-empty, at most 128 bytes, valid UTF-8 and printable.
func IdentityProblem(id string) string {
	switch {
	case id == "":
		return "empty"
	case len(id) > maxIdentityLen:
		return fmt.Sprintf("longer than %d bytes", maxIdentityLen)
	case !utf8.ValidString(id):
		return "not UTF-8"
	}
	for _, r := range id {
		if !unicode.IsPrint(r) {
			return "a character that is not printable"
		}
	}
	return ""
}
