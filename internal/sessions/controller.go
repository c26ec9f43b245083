package sessions

import (
	"context"
	"time"
)

// Controller is what the admin endpoints drive. Its methods are safe for
// concurrent use; those taking a context return ErrUnavailable when it ends
// before the relay answered.
type Controller interface {
	// List returns the live sessions that f selects, oldest first.
	List(ctx context.Context, f Filter) ([]Session, error)
	// End ends the live session id (its relays close, its record says
	// "ended by operator"); ErrNotFound if there is none.
	End(ctx context.Context, id string) error
	// Revoke revokes identity until until (zero: until lifted), stores the
	// revocation, and ends the identity's live sessions; it returns the
	// revocation and how many sessions it ended. ErrBadIdentity for a
	// malformed identity, ErrBadRequest for an until not after now.
	Revoke(ctx context.Context, identity string, until time.Time) (Revocation, int, error)
	// Revocations returns the revocations in force, by identity.
	Revocations() []Revocation
	// Lift removes the revocation of identity; ErrNotFound if there is
	// none.
	Lift(identity string) error
}
