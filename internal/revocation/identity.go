package revocation

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/avedge/avedge/internal/sessions"
)

// maxIdentityLen bounds an identity in bytes, as internal/auth does.
const maxIdentityLen = 128

// validIdentity applies the identity rules of internal/auth (which issues
// and parses ephemeral usernames "<expiry>:<identity>"): an identity is
// non-empty, at most 128 bytes, valid UTF-8 and printable. The error
// matches sessions.ErrBadIdentity and says which rule failed; it does not
// repeat the identity.
func validIdentity(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", sessions.ErrBadIdentity)
	case len(id) > maxIdentityLen:
		return fmt.Errorf("%w: longer than %d bytes", sessions.ErrBadIdentity, maxIdentityLen)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: not UTF-8", sessions.ErrBadIdentity)
	}
	for _, r := range id {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%w: a character that is not printable", sessions.ErrBadIdentity)
		}
	}
	return nil
}
