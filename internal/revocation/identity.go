package revocation

import (
	"fmt"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/sessions"
)

// validIdentity applies the rules of the identities that credentials name
// (auth.IdentityProblem); the error matches sessions.ErrBadIdentity.
func validIdentity(id string) error {
	if p := auth.IdentityProblem(id); p != "" {
		return fmt.Errorf("%w: %s", sessions.ErrBadIdentity, p)
	}
	return nil
}
