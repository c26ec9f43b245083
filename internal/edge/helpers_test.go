package edge

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/config"
)

// logged is a slog.Handler that keeps the records it handles, as lines of
// text, for tests to look through.
type logged struct {
	mu    sync.Mutex
	lines []string
}

func (l *logged) Enabled(context.Context, slog.Level) bool { return true }

func (l *logged) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, b.String())
	return nil
}

func (l *logged) WithAttrs([]slog.Attr) slog.Handler { return l }

func (l *logged) WithGroup(string) slog.Handler { return l }

// with returns the lines that contain every one of parts.
func (l *logged) with(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// all returns every line.
func (l *logged) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// development returns the development edge's configuration, with its
// state in a directory of the test.
func development(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Development(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// keyringOf returns a keyring of the secrets of c.
func keyringOf(t *testing.T, c *config.Config) *auth.Keyring {
	t.Helper()
	k, err := newKeyring(c.Auth)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// runEdge builds the edge of cfg with log (nil discards) and runs it until
// the test ends, when it is stopped and closed.
func runEdge(t *testing.T, cfg *config.Config, log *slog.Logger) *Edge {
	t.Helper()
	e, err := Build(cfg, Deps{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		e.Close()
	})
	return e
}
