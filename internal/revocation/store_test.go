package revocation

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/sessions"
)

// newStore returns a Store on path with clk, logging into log when not
// nil.
func newStore(t *testing.T, path string, clk clock.Clock, log *bytes.Buffer) *Store {
	t.Helper()
	opts := Options{Path: path, MaxCredentialLifetime: lifetime, Clock: clk}
	if log != nil {
		opts.Logger = slog.New(slog.NewTextHandler(log, nil))
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// writeFile writes content to path as an operator's tool does: a new file
// renamed over the old one.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// mustRevoke revokes identity through s.
func mustRevoke(t *testing.T, s *Store, identity string, until time.Time) sessions.Revocation {
	t.Helper()
	r, err := s.Revoke(identity, until)
	if err != nil {
		t.Fatalf("Revoke(%q): %v", identity, err)
	}
	return r
}

func TestNewRefusesBadOptions(t *testing.T) {
	for _, opts := range []Options{
		{},
		{Path: filepath.Join(t.TempDir(), "r.json"), MaxCredentialLifetime: -time.Second},
	} {
		if _, err := New(opts); !errors.Is(err, ErrBadOptions) {
			t.Errorf("New(%+v) error = %v, want ErrBadOptions", opts, err)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	s := newStore(t, filepath.Join(t.TempDir(), "none", "r.json"), clock.NewFake(t0), nil)
	if err := s.Load(); err != nil {
		t.Fatalf("Load of a missing file: %v", err)
	}
	if s.Current() == nil || s.Current().Len() != 0 {
		t.Fatalf("Current() = %v, want an empty set", s.Current())
	}
}

func TestLoadReadsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	writeFile(t, path, `{"version":1,"revocations":[
		{"identity":"bob","at":"2026-12-07T10:00:00Z","until":"2026-12-08T10:00:00Z"},
		{"identity":"alice","at":"2026-12-07T09:00:00+01:00"},
		{"identity":"dead","at":"2026-12-06T08:00:00Z","until":"2026-12-06T09:00:00Z"}]}`)
	s := newStore(t, path, clock.NewFake(t0), nil)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	// "dead" can refuse nothing at t0 (until and t0-2h+lifetime+skew
	// passed): it is ignored.
	wantRevocations(t, s.Current().List(), []sessions.Revocation{
		{Identity: "alice", At: t0.Add(-2 * time.Hour)},
		{Identity: "bob", At: t0, Until: t0.Add(24 * time.Hour)},
	})
}

func TestLoadRefusesMalformedFiles(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"empty", ``, "empty"},
		{"syntax", "{\"version\":1,\n\"revocations\":[\n  {\"identity\": alice}]}", "line 3, column 16"},
		{"type", "{\"version\":\"1\"}", "line 1, column 14"},
		{"unknown field", `{"version":1,"revocations":[{"identity":"alice","at":"2026-12-07T10:00:00Z","colour":"red"}]}`, `unknown field "colour"`},
		{"unknown top-level field", `{"version":1,"revoked":[]}`, `unknown field "revoked"`},
		{"no version", `{"revocations":[]}`, `no "version"`},
		{"null", `null`, `no "version"`},
		{"wrong version", `{"version":2,"revocations":[]}`, `"version" 2, want 1`},
		{"trailing data", `{"version":1} {}`, "data after the top-level object"},
		{"empty identity", `{"version":1,"revocations":[{"identity":"","at":"2026-12-07T10:00:00Z"}]}`, "revocations[0]: sessions: invalid identity: empty"},
		{"non-printable identity", `{"version":1,"revocations":[{"identity":"a\u0007","at":"2026-12-07T10:00:00Z"}]}`, "revocations[0]: sessions: invalid identity"},
		{"no at", `{"version":1,"revocations":[{"identity":"alice"}]}`, `revocations[0]: "alice": no "at"`},
		{"bad at", `{"version":1,"revocations":[{"identity":"alice","at":"yesterday"}]}`, `revocations[0]: "alice": "at": parsing time "yesterday"`},
		{"bad until", `{"version":1,"revocations":[{"identity":"alice","at":"2026-12-07T10:00:00Z","until":"2026-12-07"}]}`, `revocations[0]: "alice": "until": parsing time`},
		{"at not a string", "{\"version\":1,\"revocations\":[\n{\"identity\":\"alice\",\"at\":5}]}", "line 2, column 26"},
		{"duplicate", `{"version":1,"revocations":[{"identity":"alice","at":"2026-12-07T10:00:00Z"},{"identity":"bob","at":"2026-12-07T10:00:00Z"},{"identity":"alice","at":"2026-12-07T11:00:00Z"}]}`, `revocations[0] and [2] both revoke "alice"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.json")
			s := newStore(t, path, clock.NewFake(t0), nil)
			if _, err := s.Revoke("carol", time.Time{}); err != nil {
				t.Fatal(err)
			}
			before := s.Current()
			writeFile(t, path, tt.content)
			err := s.Load()
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load error = %v, want ErrMalformed naming %s and saying %q", err, path, tt.want)
			}
			if s.Current() != before {
				t.Fatalf("a failed Load changed the set to %v", s.Current().List())
			}
		})
	}
}

func TestLoadBounds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	writeFile(t, path, `{"version":1,"revocations":[
		{"identity":"a","at":"2026-12-07T10:00:00Z"},
		{"identity":"b","at":"2026-12-07T10:00:00Z"},
		{"identity":"c","at":"2026-12-07T10:00:00Z"}]}`)
	size, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	s := newStore(t, path, clock.NewFake(t0), nil)
	s.maxFileSize = size.Size() - 1
	if err := s.Load(); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("Load of a file over the size bound: %v, want ErrMalformed, larger than", err)
	}
	s.maxFileSize = size.Size()
	s.maxEntries = 2
	if err := s.Load(); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "3 revocations in force, more than 2") {
		t.Fatalf("Load of a file over the entry bound: %v", err)
	}
	s.maxEntries = 3
	if err := s.Load(); err != nil || s.Current().Len() != 3 {
		t.Fatalf("Load at both bounds: %v, %d revocations", err, s.Current().Len())
	}
}

func TestLoadRefusesDirectory(t *testing.T) {
	path := t.TempDir()
	s := newStore(t, path, clock.NewFake(t0), nil)
	if err := s.Load(); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Load of a directory: %v", err)
	}
}

// fileContent is the JSON of a revocation file, for checking what a Store
// wrote.
type fileContent struct {
	Version     int `json:"version"`
	Revocations []struct {
		Identity string `json:"identity"`
		At       string `json:"at"`
		Until    string `json:"until"`
	} `json:"revocations"`
}

func TestRevokeAndLiftSurviveRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "revocations.json")
	clk := clock.NewFake(t0)
	s := newStore(t, path, clk, nil)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}

	alice, err := s.Revoke("alice", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if alice.Identity != "alice" || !alice.At.Equal(t0) || !alice.Until.IsZero() {
		t.Fatalf("Revoke returned %+v", alice)
	}
	clk.Advance(time.Minute)
	until := t0.Add(24 * time.Hour)
	if _, err := s.Revoke("bob", until); err != nil {
		t.Fatal(err)
	}
	want := []sessions.Revocation{alice, {Identity: "bob", At: t0.Add(time.Minute), Until: until}}
	wantRevocations(t, s.Current().List(), want)
	if !s.Current().Refuses("alice", time.Time{}, t0.Add(time.Hour)) || s.Current().Refuses("carol", time.Time{}, t0) {
		t.Fatal("the set in force does not refuse what was revoked, or refuses more")
	}

	// The file, as an operator reads it.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f fileContent
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("the file does not parse: %v\n%s", err, data)
	}
	if f.Version != 1 || len(f.Revocations) != 2 ||
		f.Revocations[0].Identity != "alice" || f.Revocations[0].At != "2026-12-07T10:00:00Z" || f.Revocations[0].Until != "" ||
		f.Revocations[1].Identity != "bob" || f.Revocations[1].At != "2026-12-07T10:01:00Z" || f.Revocations[1].Until != "2026-12-08T10:00:00Z" {
		t.Fatalf("file holds\n%s", data)
	}
	if strings.Contains(string(data), `"until": "0001`) {
		t.Fatalf("zero until written:\n%s", data)
	}
	for p, mode := range map[string]fs.FileMode{dir: 0o700, path: 0o600} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got&^mode != 0 {
			t.Errorf("%s has mode %v, want at most %v", p, got, mode)
		}
	}

	// A restart: another Store reads what this one wrote.
	restarted := newStore(t, path, clk, nil)
	if err := restarted.Load(); err != nil {
		t.Fatal(err)
	}
	wantRevocations(t, restarted.Current().List(), want)

	if err := s.Lift("alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.Lift("alice"); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("second Lift: %v, want ErrNotFound", err)
	}
	wantRevocations(t, s.Current().List(), want[1:])
	if err := restarted.Load(); err != nil {
		t.Fatal(err)
	}
	wantRevocations(t, restarted.Current().List(), want[1:])
}

func TestRevokeReplaces(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newStore(t, filepath.Join(t.TempDir(), "r.json"), clk, nil)
	if _, err := s.Revoke("alice", time.Time{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	r, err := s.Revoke("alice", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	wantRevocations(t, s.Current().List(), []sessions.Revocation{r})
	if !r.At.Equal(t0.Add(time.Minute)) || !r.Until.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Revoke returned %+v", r)
	}
}

func TestRevokeRefusesBadArguments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	s := newStore(t, path, clock.NewFake(t0), nil)
	for _, tt := range []struct {
		identity string
		until    time.Time
		want     error
	}{
		{"", time.Time{}, sessions.ErrBadIdentity},
		{strings.Repeat("a", 129), time.Time{}, sessions.ErrBadIdentity},
		{"\xff", time.Time{}, sessions.ErrBadIdentity},
		{"al\nice", time.Time{}, sessions.ErrBadIdentity},
		{"alice", t0, sessions.ErrBadRequest},
		{"alice", t0.Add(-time.Second), sessions.ErrBadRequest},
		{"alice", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), sessions.ErrBadRequest},
	} {
		if _, err := s.Revoke(tt.identity, tt.until); !errors.Is(err, tt.want) {
			t.Errorf("Revoke(%q, %v) error = %v, want %v", tt.identity, tt.until, err, tt.want)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("refused revocations wrote the file: %v", err)
	}
	if _, err := s.Revoke(strings.Repeat("é", 64), time.Time{}); err != nil {
		t.Fatalf("an identity of 128 bytes: %v", err)
	}
}

func TestWritesLeaveNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	s := newStore(t, path, clock.NewFake(t0), nil)
	for _, id := range []string{"alice", "bob", "carol"} {
		if _, err := s.Revoke(id, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Lift("bob"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "r.json" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %v, want only r.json", names)
	}
}

func TestWriteFailureKeepsSet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "r.json")
	s := newStore(t, path, clock.NewFake(t0), nil)
	if _, err := s.Revoke("alice", time.Time{}); err != nil {
		t.Fatal(err)
	}
	before := s.Current()
	// The directory becomes a plain file: nothing can be written there,
	// whoever the test runs as.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := s.Revoke("bob", time.Time{})
	if !errors.Is(err, sessions.ErrUnavailable) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Revoke with an unwritable file: %v, want ErrUnavailable naming %s", err, path)
	}
	if err := s.Lift("alice"); !errors.Is(err, sessions.ErrUnavailable) {
		t.Fatalf("Lift with an unwritable file: %v, want ErrUnavailable", err)
	}
	if s.Current() != before {
		t.Fatalf("failed writes changed the set to %v", s.Current().List())
	}
}

func TestWritesPrune(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	clk := clock.NewFake(t0)
	s := newStore(t, path, clk, nil)
	alice := mustRevoke(t, s, "alice", time.Time{})
	mustRevoke(t, s, "bob", t0.Add(10*time.Minute))
	// bob's until has passed, but credentials issued before t0 live until
	// t0+lifetime+skew: bob still refuses some.
	clk.Advance(lifetime)
	mustRevoke(t, s, "carol", time.Time{})
	if s.Current().Len() != 3 {
		t.Fatalf("bob pruned while he could still refuse: %v", s.Current().List())
	}
	clk.Advance(2 * time.Minute)
	if err := s.Lift("carol"); err != nil {
		t.Fatal(err)
	}
	wantRevocations(t, s.Current().List(), []sessions.Revocation{alice})
	other := newStore(t, path, clk, nil)
	if err := other.Load(); err != nil {
		t.Fatal(err)
	}
	wantRevocations(t, other.Current().List(), []sessions.Revocation{alice})
}

func TestRevokeBound(t *testing.T) {
	s := newStore(t, filepath.Join(t.TempDir(), "r.json"), clock.NewFake(t0), nil)
	s.maxEntries = 2
	for _, id := range []string{"a", "b"} {
		if _, err := s.Revoke(id, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.Revoke("c", time.Time{})
	if !errors.Is(err, ErrFull) || !errors.Is(err, sessions.ErrUnavailable) {
		t.Fatalf("Revoke beyond the bound: %v, want ErrFull and ErrUnavailable", err)
	}
	if _, err := s.Revoke("a", t0.Add(time.Hour)); err != nil {
		t.Fatalf("replacing a revocation at the bound: %v", err)
	}
	if s.Current().Len() != 2 {
		t.Fatalf("%d revocations, want 2", s.Current().Len())
	}
}

func TestWriteKeepsOtherWritersChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	clk := clock.NewFake(t0)
	s1 := newStore(t, path, clk, nil)
	s2 := newStore(t, path, clk, nil)
	if err := s1.Load(); err != nil {
		t.Fatal(err)
	}
	bob, err := s2.Revoke("bob", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	carol, err := s1.Revoke("carol", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	wantRevocations(t, s1.Current().List(), []sessions.Revocation{bob, carol})
	if err := s2.Load(); err != nil {
		t.Fatal(err)
	}
	wantRevocations(t, s2.Current().List(), []sessions.Revocation{bob, carol})
	// s1's user learns of bob from Watch, not of its own carol.
	w := &recorder{}
	(&watcher{s: s1, changed: w.changed}).poll()
	w.want(t, bob)
}

func TestRevokeReplacesBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	log := &bytes.Buffer{}
	s := newStore(t, path, clock.NewFake(t0), log)
	alice := mustRevoke(t, s, "alice", time.Time{})
	writeFile(t, path, `{"version":1,"revocations":[{"identity":"alice"}]}`)
	bob := mustRevoke(t, s, "bob", time.Time{})
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), path) {
		t.Fatalf("replacing a bad file not logged:\n%s", log)
	}
	other := newStore(t, path, clock.NewFake(t0), nil)
	if err := other.Load(); err != nil {
		t.Fatalf("the file Revoke wrote over a bad one: %v", err)
	}
	wantRevocations(t, other.Current().List(), []sessions.Revocation{alice, bob})
}
