package revocation

import (
	"maps"
	"slices"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/sessions"
)

// Set is an immutable set of revocations, at most one per identity. A nil
// or empty Set revokes nothing. It is safe for concurrent use.
type Set struct {
	revs map[string]sessions.Revocation
	// window is the maximum credential lifetime plus auth.MaxClockSkew:
	// a credential expiring at most window after a revocation's At might
	// have been issued before it.
	window time.Duration
}

// NewSet returns the Set of revs for credentials that live at most
// maxCredentialLifetime (0 means auth.DefaultMaxCredentialLifetime, as for
// auth.Options). A later revocation of an identity replaces an earlier one;
// identities are taken as given. The Store builds its sets itself; NewSet
// is for code that needs a Set without a file.
func NewSet(maxCredentialLifetime time.Duration, revs ...sessions.Revocation) *Set {
	m := make(map[string]sessions.Revocation, len(revs))
	for _, r := range revs {
		m[r.Identity] = r
	}
	return &Set{revs: m, window: window(maxCredentialLifetime)}
}

// window returns how long after a revocation a credential issued before it
// may still expire.
func window(maxCredentialLifetime time.Duration) time.Duration {
	if maxCredentialLifetime == 0 {
		maxCredentialLifetime = auth.DefaultMaxCredentialLifetime
	}
	return maxCredentialLifetime + auth.MaxClockSkew
}

// Refuses reports whether the set refuses a credential of identity that
// expires at expiry (zero for a static user, whose credential does not
// expire) when presented at now: a revocation names identity and either
// stands for ever (zero Until), or now is before its Until, or the
// credential might have been issued before it (a non-zero expiry at most
// At plus the maximum credential lifetime plus auth.MaxClockSkew). It
// allocates nothing; on an empty set it is one length check.
func (s *Set) Refuses(identity string, expiry, now time.Time) bool {
	if s == nil || len(s.revs) == 0 {
		return false
	}
	r, ok := s.revs[identity]
	if !ok {
		return false
	}
	if r.Until.IsZero() || now.Before(r.Until) {
		return true
	}
	return !expiry.IsZero() && !expiry.After(r.At.Add(s.window))
}

// live reports whether r can still refuse a credential at now or later.
func (s *Set) live(r sessions.Revocation, now time.Time) bool {
	return r.Until.IsZero() || now.Before(r.Until) || now.Before(r.At.Add(s.window))
}

// InForce returns the revocations of the set that can still refuse a
// credential at now or later, sorted by identity.
func (s *Set) InForce(now time.Time) []sessions.Revocation {
	var out []sessions.Revocation
	for _, r := range s.List() {
		if s.live(r, now) {
			out = append(out, r)
		}
	}
	return out
}

// Len returns the number of revocations in the set.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.revs)
}

// List returns the revocations of the set sorted by identity, in a new
// slice (empty, not nil, for an empty set).
func (s *Set) List() []sessions.Revocation {
	list := make([]sessions.Revocation, 0, s.Len())
	if s.Len() == 0 {
		return list
	}
	for _, id := range slices.Sorted(maps.Keys(s.revs)) {
		list = append(list, s.revs[id])
	}
	return list
}
