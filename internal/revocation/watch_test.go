package revocation

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/sessions"
)

// recorder records the calls of a Watch's changed.
type recorder struct {
	calls [][]sessions.Revocation
}

func (r *recorder) changed(added []sessions.Revocation) { r.calls = append(r.calls, added) }

// want fails t unless changed was called once, with added, since the last
// want (none at all for no added).
func (r *recorder) want(t *testing.T, added ...sessions.Revocation) {
	t.Helper()
	calls := r.calls
	r.calls = nil
	switch {
	case len(added) == 0 && len(calls) != 0:
		t.Fatalf("changed called with %v, want no call", calls)
	case len(added) == 0:
	case len(calls) != 1:
		t.Fatalf("changed called %d times (%v), want once with %v", len(calls), calls, added)
	default:
		wantRevocations(t, calls[0], added)
	}
}

// watched returns a Store on a new file in a new directory, loaded, and a
// watcher of it recording into a recorder; the Store logs into the buffer.
func watched(t *testing.T, clk clock.Clock) (*Store, *watcher, *recorder, *bytes.Buffer) {
	t.Helper()
	log := &bytes.Buffer{}
	s := newStore(t, filepath.Join(t.TempDir(), "r.json"), clk, log)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	return s, &watcher{s: s, changed: rec.changed}, rec, log
}

func TestWatchSeesAnotherStore(t *testing.T) {
	clk := clock.NewFake(t0)
	s, w, rec, _ := watched(t, clk)
	other := newStore(t, s.path, clk, nil)
	alice := mustRevoke(t, s, "alice", time.Time{})

	w.poll()
	rec.want(t)
	if err := other.Load(); err != nil {
		t.Fatal(err)
	}
	bob := mustRevoke(t, other, "bob", time.Time{})
	carol := mustRevoke(t, other, "carol", t0.Add(time.Hour))
	w.poll()
	rec.want(t, bob, carol)
	wantRevocations(t, s.Current().List(), []sessions.Revocation{alice, bob, carol})
	w.poll()
	rec.want(t)

	// Revoked anew: another At.
	clk.Advance(time.Minute)
	bob = mustRevoke(t, other, "bob", time.Time{})
	w.poll()
	rec.want(t, bob)

	// A lift adds nothing: no call, but the set follows.
	if err := other.Lift("carol"); err != nil {
		t.Fatal(err)
	}
	w.poll()
	rec.want(t)
	wantRevocations(t, s.Current().List(), []sessions.Revocation{alice, bob})
}

func TestWatchIgnoresOwnWrites(t *testing.T) {
	s, w, rec, _ := watched(t, clock.NewFake(t0))
	mustRevoke(t, s, "alice", time.Time{})
	w.poll()
	mustRevoke(t, s, "bob", t0.Add(time.Hour))
	mustRevoke(t, s, "alice", t0.Add(time.Hour))
	w.poll()
	if err := s.Lift("bob"); err != nil {
		t.Fatal(err)
	}
	w.poll()
	rec.want(t)
}

func TestWatchSeesHandWrittenFile(t *testing.T) {
	s, w, rec, _ := watched(t, clock.NewFake(t0))
	alice := mustRevoke(t, s, "alice", time.Time{})
	w.poll()

	writeFile(t, s.path, `{"version":1,"revocations":[
		{"identity":"alice","at":"2026-12-07T10:00:00Z"},
		{"identity":"dave","at":"2026-12-07T10:05:00Z","until":"2026-12-07T12:00:00Z"}]}`)
	w.poll()
	dave := sessions.Revocation{Identity: "dave", At: t0.Add(5 * time.Minute), Until: t0.Add(2 * time.Hour)}
	rec.want(t, dave)
	wantRevocations(t, s.Current().List(), []sessions.Revocation{alice, dave})

	// Rewritten in place (same file, other size and time).
	if err := os.WriteFile(s.path, []byte(`{"version":1,"revocations":[{"identity":"erin","at":"2026-12-07T10:06:00Z"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(s.path, t0, t0); err != nil {
		t.Fatal(err)
	}
	w.poll()
	erin := sessions.Revocation{Identity: "erin", At: t0.Add(6 * time.Minute)}
	rec.want(t, erin)
	wantRevocations(t, s.Current().List(), []sessions.Revocation{erin})

	// Removed: nothing is revoked.
	if err := os.Remove(s.path); err != nil {
		t.Fatal(err)
	}
	w.poll()
	rec.want(t)
	if s.Current().Len() != 0 {
		t.Fatalf("file removed, set holds %v", s.Current().List())
	}
}

func TestWatchSeesSymlinkSwap(t *testing.T) {
	// As a Kubernetes ConfigMap volume: the file is a symlink into a data
	// directory that a new symlink, renamed over the old, replaces.
	dir := t.TempDir()
	for name, content := range map[string]string{
		"v1": `{"version":1,"revocations":[{"identity":"alice","at":"2026-12-07T10:00:00Z"}]}`,
		"v2": `{"version":1,"revocations":[{"identity":"alice","at":"2026-12-07T10:00:00Z"},{"identity":"bob","at":"2026-12-07T10:01:00Z"}]}`,
	} {
		if err := os.Mkdir(filepath.Join(dir, name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "r.json"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("v1", filepath.Join(dir, "data")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "r.json")
	if err := os.Symlink(filepath.Join("data", "r.json"), path); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, path, clock.NewFake(t0), nil)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	w := &watcher{s: s, changed: rec.changed}
	w.poll()
	rec.want(t)

	if err := os.Symlink("v2", filepath.Join(dir, "data.new")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "data.new"), filepath.Join(dir, "data")); err != nil {
		t.Fatal(err)
	}
	w.poll()
	bob := sessions.Revocation{Identity: "bob", At: t0.Add(time.Minute)}
	rec.want(t, bob)
	if s.Current().Len() != 2 {
		t.Fatalf("after the swap: %v", s.Current().List())
	}
}

func TestWatchKeepsSetOnBadFile(t *testing.T) {
	s, w, rec, log := watched(t, clock.NewFake(t0))
	alice := mustRevoke(t, s, "alice", time.Time{})
	before := s.Current()

	warnings := func() int { return strings.Count(log.String(), "level=WARN") }
	writeFile(t, s.path, `{"version":2}`)
	w.poll()
	w.poll()
	if s.Current() != before {
		t.Fatalf("a bad file changed the set to %v", s.Current().List())
	}
	if n := warnings(); n != 1 || !strings.Contains(log.String(), s.path) || !strings.Contains(log.String(), `\"version\" 2`) {
		t.Fatalf("%d warnings, want 1 naming the file and the fault:\n%s", n, log)
	}
	// Another bad file with the same fault: not logged again.
	writeFile(t, s.path, `{"version":2,"revocations":[]}`)
	w.poll()
	if n := warnings(); n != 1 {
		t.Fatalf("the same fault logged %d times:\n%s", n, log)
	}
	// Another fault: logged.
	writeFile(t, s.path, `{"version":1,"revocations":[{"identity":"bob"}]}`)
	w.poll()
	w.poll()
	if n := warnings(); n != 2 {
		t.Fatalf("%d warnings after a second fault, want 2:\n%s", n, log)
	}
	rec.want(t)

	// Mended: loaded and reported.
	writeFile(t, s.path, `{"version":1,"revocations":[{"identity":"alice","at":"2026-12-07T10:00:00Z"},{"identity":"bob","at":"2026-12-07T10:02:00Z"}]}`)
	w.poll()
	bob := sessions.Revocation{Identity: "bob", At: t0.Add(2 * time.Minute)}
	rec.want(t, bob)
	wantRevocations(t, s.Current().List(), []sessions.Revocation{alice, bob})

	// Broken with the first fault again: logged again.
	writeFile(t, s.path, `{"version":2}`)
	w.poll()
	if n := warnings(); n != 3 {
		t.Fatalf("%d warnings after a fault following a success, want 3:\n%s", n, log)
	}
}

func TestWatchLoop(t *testing.T) {
	clk := clock.NewFake(t0)
	s, _, _, _ := watched(t, clk)
	other := newStore(t, s.path, clk, nil)
	tick := make(chan time.Time)
	added := make(chan []sessions.Revocation, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.watch(ctx, tick, func(a []sessions.Revocation) { added <- a })
	}()

	bob := mustRevoke(t, other, "bob", time.Time{})
	tick <- t0
	select {
	case got := <-added:
		wantRevocations(t, got, []sessions.Revocation{bob})
	case <-time.After(10 * time.Second):
		t.Fatal("changed not called after a tick")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not return when its context ended")
	}
}

func TestWatch(t *testing.T) {
	clk := clock.NewFake(t0)
	s, _, _, _ := watched(t, clk)
	other := newStore(t, s.path, clk, nil)
	bob := mustRevoke(t, other, "bob", time.Time{})
	added := make(chan []sessions.Revocation, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Watch(ctx, time.Millisecond, func(a []sessions.Revocation) { added <- a })
	}()
	defer func() { cancel(); <-done }()
	select {
	case got := <-added:
		wantRevocations(t, got, []sessions.Revocation{bob})
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not report a revocation written by another Store")
	}
}
