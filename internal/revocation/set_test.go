package revocation

import (
	"slices"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/sessions"
)

// t0 is when the tests' revocations are made.
var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// lifetime is the tests' maximum credential lifetime.
const lifetime = time.Hour

func TestRefuses(t *testing.T) {
	// A credential issued before t0 expires at most t0+lifetime+skew.
	issuedBefore := t0.Add(lifetime + auth.MaxClockSkew)
	set := NewSet(lifetime,
		sessions.Revocation{Identity: "alice", At: t0},
		sessions.Revocation{Identity: "bob", At: t0, Until: t0.Add(30 * time.Minute)},
	)
	static := time.Time{}
	tests := []struct {
		name     string
		set      *Set
		identity string
		expiry   time.Time
		now      time.Time
		want     bool
	}{
		{"nil set", nil, "alice", static, t0, false},
		{"empty set", NewSet(lifetime), "alice", static, t0, false},
		{"identity not revoked", set, "carol", t0.Add(time.Minute), t0, false},
		{"zero until, static user", set, "alice", static, t0.Add(1000 * time.Hour), true},
		{"zero until, credential issued long after", set, "alice", t0.Add(101 * time.Hour), t0.Add(100 * time.Hour), true},
		{"until in the future, static user", set, "bob", static, t0.Add(29 * time.Minute), true},
		{"until in the future, credential issued after", set, "bob", t0.Add(29*time.Minute + 2*lifetime), t0.Add(29 * time.Minute), true},
		{"until reached, static user", set, "bob", static, t0.Add(30 * time.Minute), false},
		{"until passed, static user", set, "bob", static, t0.Add(40 * time.Minute), false},
		{"until passed, credential issued before", set, "bob", t0.Add(lifetime - time.Minute), t0.Add(40 * time.Minute), true},
		{"until passed, credential at the issued-before bound", set, "bob", issuedBefore, t0.Add(40 * time.Minute), true},
		{"until passed, credential issued after", set, "bob", issuedBefore.Add(time.Second), t0.Add(40 * time.Minute), false},
	}
	for _, tt := range tests {
		if got := tt.set.Refuses(tt.identity, tt.expiry, tt.now); got != tt.want {
			t.Errorf("%s: Refuses(%q, %v, %v) = %v, want %v", tt.name, tt.identity, tt.expiry, tt.now, got, tt.want)
		}
	}
}

func TestRefusesDefaultLifetime(t *testing.T) {
	set := NewSet(0, sessions.Revocation{Identity: "bob", At: t0, Until: t0.Add(time.Minute)})
	bound := t0.Add(auth.DefaultMaxCredentialLifetime + auth.MaxClockSkew)
	now := t0.Add(time.Hour)
	if !set.Refuses("bob", bound, now) || set.Refuses("bob", bound.Add(time.Second), now) {
		t.Fatalf("with lifetime 0 the issued-before bound is not At+%v+%v", auth.DefaultMaxCredentialLifetime, auth.MaxClockSkew)
	}
}

func TestRefusesAllocs(t *testing.T) {
	full := NewSet(lifetime,
		sessions.Revocation{Identity: "alice", At: t0},
		sessions.Revocation{Identity: "bob", At: t0, Until: t0.Add(time.Minute)},
	)
	expiry, now := t0.Add(lifetime), t0.Add(time.Hour)
	for _, tt := range []struct {
		name     string
		set      *Set
		identity string
	}{
		{"nil", nil, "alice"},
		{"empty", NewSet(lifetime), "alice"},
		{"miss", full, "carol"},
		{"hit, zero until", full, "alice"},
		{"hit, until passed", full, "bob"},
	} {
		// The identity is built at run time, as a parsed username's is.
		id := string([]byte(tt.identity))
		if n := testing.AllocsPerRun(1000, func() { tt.set.Refuses(id, expiry, now) }); n != 0 {
			t.Errorf("%s: Refuses allocates %v times, want 0", tt.name, n)
		}
	}
}

func TestSetListAndLen(t *testing.T) {
	var nilSet *Set
	if nilSet.Len() != 0 || nilSet.List() == nil || len(nilSet.List()) != 0 {
		t.Fatalf("nil set: Len %d, List %#v; want 0 and an empty slice", nilSet.Len(), nilSet.List())
	}
	set := NewSet(lifetime,
		sessions.Revocation{Identity: "carol", At: t0},
		sessions.Revocation{Identity: "alice", At: t0},
		sessions.Revocation{Identity: "bob", At: t0},
		sessions.Revocation{Identity: "alice", At: t0.Add(time.Minute)},
	)
	want := []sessions.Revocation{
		{Identity: "alice", At: t0.Add(time.Minute)},
		{Identity: "bob", At: t0},
		{Identity: "carol", At: t0},
	}
	if set.Len() != 3 {
		t.Fatalf("Len() = %d, want 3", set.Len())
	}
	wantRevocations(t, set.List(), want)
}

// wantRevocations fails t unless got equals want (times compared with
// Equal).
func wantRevocations(t *testing.T, got, want []sessions.Revocation) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d revocations %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Identity != w.Identity || !g.At.Equal(w.At) || !g.Until.Equal(w.Until) {
			t.Fatalf("revocation %d = %+v, want %+v (all: %v)", i, g, w, got)
		}
	}
}

// TestInForce: a revocation is in force until both its until and the
// window of credentials issued before it have passed.
func TestInForce(t *testing.T) {
	set := NewSet(time.Hour,
		sessions.Revocation{Identity: "forever", At: t0},
		sessions.Revocation{Identity: "until-late", At: t0, Until: t0.Add(3 * time.Hour)},
		sessions.Revocation{Identity: "until-early", At: t0, Until: t0.Add(time.Minute)},
	)
	names := func(rs []sessions.Revocation) (out []string) {
		for _, r := range rs {
			out = append(out, r.Identity)
		}
		return out
	}
	window := time.Hour + auth.MaxClockSkew
	for _, tc := range []struct {
		at   time.Time
		want []string
	}{
		{t0.Add(window - time.Second), []string{"forever", "until-early", "until-late"}},
		{t0.Add(window), []string{"forever", "until-late"}},
		{t0.Add(3 * time.Hour), []string{"forever"}},
	} {
		if got := names(set.InForce(tc.at)); !slices.Equal(got, tc.want) {
			t.Errorf("InForce(%v after) = %q, want %q", tc.at.Sub(t0), got, tc.want)
		}
	}
}
