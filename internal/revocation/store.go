package revocation

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/sessions"
)

// Bounds of the set and of the file.
const (
	// maxEntries bounds the revocations in force.
	maxEntries = 100_000
	// maxFileSize bounds the file read, in bytes.
	maxFileSize = 16 << 20
)

// Options configure a Store.
type Options struct {
	// Path is the revocation file (required). Its directory is created,
	// mode 0700, when the Store first writes it.
	Path string
	// MaxCredentialLifetime is the longest an ephemeral credential may
	// live, as given to auth.Options; 0 means
	// auth.DefaultMaxCredentialLifetime.
	MaxCredentialLifetime time.Duration
	// Clock tells the time of revocations and pruning; nil means
	// clock.Real{}.
	Clock clock.Clock
	// Logger receives what the Store logs (reloads, files it cannot
	// load); nil discards it.
	Logger *slog.Logger
}

// Store keeps the revocations in force: the current Set, read without
// locking, and the file that holds it. Revoke and Lift write the file before
// the set changes; Load and Watch read it. Its methods are safe for
// concurrent use.
type Store struct {
	path        string
	window      time.Duration
	clk         clock.Clock
	log         *slog.Logger
	maxEntries  int
	maxFileSize int64

	set atomic.Pointer[Set]

	// mu serialises loading and writing the file and guards the fields
	// below.
	mu sync.Mutex
	// info is the file as last loaded or written (nil: it did not
	// exist): a file that os.Stat still matches holds the current set.
	info os.FileInfo
	// failed is the file as last refused, not to be read again until it
	// changes, and failedErr why; nil when the last read succeeded.
	failed    os.FileInfo
	failedErr error
	// reported maps each identity whose revocation the Store's user knows
	// of, by having loaded it, made it or been told of it by Watch, to
	// the revocation's At; reportedSet is the set it was last built from.
	reported    map[string]time.Time
	reportedSet *Set
}

// New validates opts and returns a Store holding an empty set; Load reads
// the file.
func New(opts Options) (*Store, error) {
	switch {
	case opts.Path == "":
		return nil, fmt.Errorf("%w: no path", ErrBadOptions)
	case opts.MaxCredentialLifetime < 0:
		return nil, fmt.Errorf("%w: negative maximum credential lifetime", ErrBadOptions)
	}
	s := &Store{
		path:        opts.Path,
		window:      window(opts.MaxCredentialLifetime),
		clk:         opts.Clock,
		log:         opts.Logger,
		maxEntries:  maxEntries,
		maxFileSize: maxFileSize,
		reported:    map[string]time.Time{},
	}
	if s.clk == nil {
		s.clk = clock.Real{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.set.Store(s.newSet(nil))
	return s, nil
}

// newSet returns a Set of revs with the Store's window.
func (s *Store) newSet(revs map[string]sessions.Revocation) *Set {
	return &Set{revs: revs, window: s.window}
}

// Current returns the set in force; never nil.
func (s *Store) Current() *Set { return s.set.Load() }

// Load reads the file and makes its revocations, less those that can refuse
// nothing any more, the set in force. A missing file is an empty set. A file
// that cannot be read or is malformed leaves the set as it was; the error
// names the file and the fault (ErrMalformed for its content). Watch does
// not report what a Load brought in: Load is for start-up.
func (s *Store) Load() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return err
	}
	set := s.set.Load()
	s.reported, s.reportedSet = reportedOf(set), set
	return nil
}

// load reads the file and makes its set the one in force, or records why
// it could not. s.mu is held.
func (s *Store) load() error {
	set, info, err := s.read()
	if err != nil {
		s.failed, s.failedErr = info, err
		return err
	}
	s.set.Store(set)
	s.info, s.failed, s.failedErr = info, nil, nil
	return nil
}

// read reads the file and returns its set and its FileInfo (nil when it
// does not exist), and that FileInfo with an error when it holds no valid
// set.
func (s *Store) read() (*Set, os.FileInfo, error) {
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return s.newSet(nil), nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("revocation: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("revocation: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, info, fmt.Errorf("%w %s: not a regular file", ErrMalformed, s.path)
	}
	data, err := io.ReadAll(io.LimitReader(f, s.maxFileSize+1))
	if err != nil {
		return nil, info, fmt.Errorf("revocation: reading %s: %w", s.path, err)
	}
	if int64(len(data)) > s.maxFileSize {
		return nil, info, fmt.Errorf("%w %s: larger than %d bytes", ErrMalformed, s.path, s.maxFileSize)
	}
	revs, err := decode(data)
	if err != nil {
		return nil, info, fmt.Errorf("%w %s: %w", ErrMalformed, s.path, err)
	}
	set := s.newSet(make(map[string]sessions.Revocation, len(revs)))
	now := s.clk.Now()
	for _, r := range revs {
		if set.live(r, now) {
			set.revs[r.Identity] = r
		}
	}
	if len(set.revs) > s.maxEntries {
		return nil, info, fmt.Errorf("%w %s: %d revocations in force, more than %d", ErrMalformed, s.path, len(set.revs), s.maxEntries)
	}
	return set, info, nil
}

// Revoke revokes identity until until (zero: until lifted) as of now,
// replacing any revocation of identity, and returns the revocation. It
// writes the file first and changes the set only once the file holds the
// new set; the set drops the revocations that can refuse nothing any more.
// Errors: sessions.ErrBadIdentity for a malformed identity,
// sessions.ErrBadRequest for an until not after now (or past year 9999),
// sessions.ErrUnavailable when the file cannot be written (naming it) or
// the set is full (with ErrFull). If another writer changed the file since
// it was last read, Revoke starts from that file (and Watch reports what it
// added); a file that cannot be read is replaced.
func (s *Store) Revoke(identity string, until time.Time) (sessions.Revocation, error) {
	if err := validIdentity(identity); err != nil {
		return sessions.Revocation{}, err
	}
	now := s.clk.Now()
	switch {
	case !until.IsZero() && !until.After(now):
		return sessions.Revocation{}, fmt.Errorf("%w: until %s is not after now", sessions.ErrBadRequest, until.UTC().Format(time.RFC3339))
	case until.Year() > 9999:
		return sessions.Revocation{}, fmt.Errorf("%w: until after year 9999", sessions.ErrBadRequest)
	}
	r := sessions.Revocation{Identity: identity, At: now.UTC().Round(0)}
	if !until.IsZero() {
		r.Until = until.UTC().Round(0)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshBeforeWrite()
	next := s.without(identity, now)
	if len(next.revs) >= s.maxEntries {
		return sessions.Revocation{}, fmt.Errorf("%w: %w: %d in force", sessions.ErrUnavailable, ErrFull, len(next.revs))
	}
	next.revs[identity] = r
	if err := s.write(next); err != nil {
		return sessions.Revocation{}, err
	}
	s.set.Store(next)
	s.reported[identity] = r.At
	return r, nil
}

// Lift removes the revocation of identity, writing the file first as
// Revoke does; sessions.ErrNotFound if none names identity,
// sessions.ErrUnavailable if the file cannot be written.
func (s *Store) Lift(identity string) error {
	if err := validIdentity(identity); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshBeforeWrite()
	if _, ok := s.set.Load().revs[identity]; !ok {
		return fmt.Errorf("%w: no revocation of the identity", sessions.ErrNotFound)
	}
	next := s.without(identity, s.clk.Now())
	if err := s.write(next); err != nil {
		return err
	}
	s.set.Store(next)
	delete(s.reported, identity)
	return nil
}

// refreshBeforeWrite picks up a change another writer made to the file, so
// that a write does not undo it. s.mu is held.
func (s *Store) refreshBeforeWrite() {
	if err := s.refresh(); err != nil {
		s.log.Warn("revocation file unreadable; writing it anew from the revocations in force", "path", s.path, "error", err)
	}
}

// without returns a copy of the current set without identity and without
// the revocations that can refuse nothing at now or later. s.mu is held.
func (s *Store) without(identity string, now time.Time) *Set {
	cur := s.set.Load()
	next := s.newSet(make(map[string]sessions.Revocation, len(cur.revs)+1))
	for id, r := range cur.revs {
		if id != identity && cur.live(r, now) {
			next.revs[id] = r
		}
	}
	return next
}

// write writes set to the file and records the file's FileInfo. s.mu is
// held.
func (s *Store) write(set *Set) error {
	data, err := encode(set.List())
	if err != nil {
		return fmt.Errorf("%w: revocation: encoding %s: %w", sessions.ErrUnavailable, s.path, err)
	}
	info, dirErr, err := writeAtomic(s.path, data)
	if err != nil {
		return fmt.Errorf("%w: revocation: writing %s: %w", sessions.ErrUnavailable, s.path, err)
	}
	if dirErr != nil {
		s.log.Warn("revocation file written but its directory not synced", "path", s.path, "error", dirErr)
	}
	s.info, s.failed, s.failedErr = info, nil, nil
	return nil
}
