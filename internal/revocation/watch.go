package revocation

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/avedge/avedge/internal/sessions"
)

// Watch checks the file every interval (which must be positive) until ctx
// ends, and reloads it when it changed: another file (os.SameFile), another
// size or another modification time, as os.Stat sees it through symlinks
// (so a Kubernetes ConfigMap's symlink swap is seen). After a reload it
// calls changed, from Watch's goroutine, with the revocations, sorted by
// identity, that are new or whose At changed since Load or since it last
// called changed, not counting those the Store made itself (Revoke): the
// caller ends those identities' live sessions. It does not call changed
// when nothing was added (a lift, say). changed must not be nil. A file
// that cannot be loaded leaves the set as it was; the error is logged once
// (at Warn) until another one occurs or a load succeeds, and the file is
// read again only when it changes. Run at most one Watch per Store.
func (s *Store) Watch(ctx context.Context, every time.Duration, changed func(added []sessions.Revocation)) {
	t := time.NewTicker(every)
	defer t.Stop()
	s.watch(ctx, t.C, changed)
}

// watch is Watch with the ticks coming from tick.
func (s *Store) watch(ctx context.Context, tick <-chan time.Time, changed func(added []sessions.Revocation)) {
	w := watcher{s: s, changed: changed}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			w.poll()
		}
	}
}

// watcher is the state of one Watch.
type watcher struct {
	s       *Store
	changed func(added []sessions.Revocation)
	// lastErr is the text of the error last logged, "" after a success.
	lastErr string
}

// poll reloads the file if it changed and reports what it added.
func (w *watcher) poll() {
	added, err := w.s.reload()
	if err != nil {
		if msg := err.Error(); msg != w.lastErr {
			w.lastErr = msg
			w.s.log.Warn("revocation file not loaded; the revocations in force stay", "path", w.s.path, "error", err)
		}
		return
	}
	w.lastErr = ""
	if len(added) > 0 {
		w.changed(added)
	}
}

// reload picks up a change of the file and returns the revocations in force
// whose identity or At the Store's user does not know yet, by identity.
func (s *Store) reload() ([]sessions.Revocation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(); err != nil {
		return nil, err
	}
	set := s.set.Load()
	if set == s.reportedSet {
		return nil, nil
	}
	var added []sessions.Revocation
	for _, r := range set.revs {
		if at, ok := s.reported[r.Identity]; !ok || !at.Equal(r.At) {
			added = append(added, r)
		}
	}
	slices.SortFunc(added, func(a, b sessions.Revocation) int { return strings.Compare(a.Identity, b.Identity) })
	s.reported, s.reportedSet = reportedOf(set), set
	return added, nil
}

// refresh reads the file if it is not the one last loaded or written and
// makes its set the one in force. The file last refused is not read again:
// refresh returns the same error. s.mu is held.
func (s *Store) refresh() error {
	info, err := os.Stat(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		info = nil
	case err != nil:
		return fmt.Errorf("revocation: %w", err)
	}
	switch {
	case sameFile(info, s.info):
		return nil
	case s.failed != nil && sameFile(info, s.failed):
		return s.failedErr
	}
	if err := s.load(); err != nil {
		return err
	}
	s.log.Info("revocation file reloaded", "path", s.path, "in_force", s.set.Load().Len())
	return nil
}

// sameFile reports whether a and b, FileInfos of the file's path (nil when
// it did not exist), show the same unchanged file.
func sameFile(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// reportedOf maps the identities of set to their revocations' At.
func reportedOf(set *Set) map[string]time.Time {
	m := make(map[string]time.Time, set.Len())
	for id, r := range set.revs {
		m[id] = r.At
	}
	return m
}
