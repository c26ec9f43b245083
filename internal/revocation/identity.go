package revocation

import (
	"fmt"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/sessions"
)

// validIdentity applies auth.ValidateIdentity, the rules of the identities
// that credentials name; the error matches sessions.ErrBadIdentity.
func validIdentity(id string) error {
	if err := auth.ValidateIdentity(id); err != nil {
		return fmt.Errorf("%w: %w", sessions.ErrBadIdentity, err)
	}
	return nil
}
