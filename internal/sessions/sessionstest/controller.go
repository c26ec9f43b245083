// Package sessionstest provides an in-memory sessions.Controller for the
// tests of what drives one: the admin endpoints and the `avedge sessions`
// command.
package sessionstest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/sessions"
)

// Controller is a sessions.Controller over a list of live sessions and a
// map of revocations, which records the filters it was asked for. Set its
// fields before use; its methods guard them after.
type Controller struct {
	// Live are the live sessions; Revs the revocations, by identity.
	Live []sessions.Session
	Revs map[string]sessions.Revocation
	// Err, when set, is what every method returns.
	Err error
	// At is the time of the revocations Revoke makes.
	At time.Time

	mu      sync.Mutex
	filters []sessions.Filter
}

// List implements sessions.Controller.
func (c *Controller) List(_ context.Context, f sessions.Filter) ([]sessions.Session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.filters = append(c.filters, f)
	if c.Err != nil {
		return nil, c.Err
	}
	var out []sessions.Session
	for i := range c.Live {
		if f.Match(&c.Live[i]) {
			out = append(out, c.Live[i])
		}
	}
	return out, nil
}

// End implements sessions.Controller.
func (c *Controller) End(_ context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return c.Err
	}
	i := slices.IndexFunc(c.Live, func(s sessions.Session) bool { return s.ID == id })
	if i < 0 {
		return fmt.Errorf("%w: session %q", sessions.ErrNotFound, id)
	}
	c.Live = slices.Delete(c.Live, i, i+1)
	return nil
}

// Revoke implements sessions.Controller: an identity auth.IdentityProblem
// finds wrong is sessions.ErrBadIdentity, an until before now
// sessions.ErrBadRequest.
func (c *Controller) Revoke(_ context.Context, identity string, until time.Time) (sessions.Revocation, int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.Err != nil:
		return sessions.Revocation{}, 0, c.Err
	case auth.IdentityProblem(identity) != "":
		return sessions.Revocation{}, 0, fmt.Errorf("%w: %s", sessions.ErrBadIdentity, auth.IdentityProblem(identity))
	case !until.IsZero() && until.Before(time.Now()):
		return sessions.Revocation{}, 0, fmt.Errorf("%w: until %v is past", sessions.ErrBadRequest, until)
	}
	before := len(c.Live)
	c.Live = slices.DeleteFunc(c.Live, func(s sessions.Session) bool { return s.Identity == identity })
	rev := sessions.Revocation{Identity: identity, At: c.At, Until: until}
	if c.Revs == nil {
		c.Revs = map[string]sessions.Revocation{}
	}
	c.Revs[identity] = rev
	return rev, before - len(c.Live), nil
}

// Revocations implements sessions.Controller, sorted by identity.
func (c *Controller) Revocations() []sessions.Revocation {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []sessions.Revocation
	for _, id := range slices.Sorted(maps.Keys(c.Revs)) {
		out = append(out, c.Revs[id])
	}
	return out
}

// Lift implements sessions.Controller.
func (c *Controller) Lift(identity string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return c.Err
	}
	if _, ok := c.Revs[identity]; !ok {
		return fmt.Errorf("%w: %q", sessions.ErrNotFound, identity)
	}
	delete(c.Revs, identity)
	return nil
}

// State returns copies of the live sessions, the revocations and the
// filters asked for so far.
func (c *Controller) State() ([]sessions.Session, map[string]sessions.Revocation, []sessions.Filter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.Live), maps.Clone(c.Revs), slices.Clone(c.filters)
}
