package credsvc

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/clock"
)

// TestRefusalLogBounded: refusals from more IPs than the table holds log
// a bounded number of lines, and the table stays bounded.
func TestRefusalLogBounded(t *testing.T) {
	sink := &countSink{}
	clk := clock.NewFake(time.Unix(1_800_000_000, 0))
	l := newRefusalLog(slog.New(sink), clk)
	n := 0
	for round := range 2 {
		for i := range maxRefusalPeers + 500 {
			l.warn(fmt.Sprintf("[2001:db8::%x]:%d", i, 1000+round), "refused")
		}
		n += sink.take()
		if len(l.peers) > maxRefusalPeers+1 { // with the shared entry
			t.Fatalf("round %d: table holds %d peers", round, len(l.peers))
		}
	}
	if want := maxRefusalPeers + 1; n != want {
		t.Errorf("%d lines for 2×%d refusals of %d IPs within a minute, want %d", n, maxRefusalPeers+500, maxRefusalPeers+500, want)
	}
	// A minute later the full table is purged and its counts summarised.
	clk.Advance(refusalLogWindow)
	l.warn("192.0.2.9:1", "refused")
	if got := sink.take(); got != 2 || sink.suppressed != fmt.Sprint(maxRefusalPeers) {
		t.Errorf("after a minute: %d lines, the first with suppressed=%q; want 2, the first with the summary", got, sink.suppressed)
	}
}

// countSink is a slog.Handler that counts records and keeps the
// suppressed attribute of the first since the last take.
type countSink struct {
	mu         sync.Mutex
	n          int
	suppressed string // the suppressed attribute of the first record
}

func (s *countSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *countSink) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *countSink) WithGroup(string) slog.Handler            { return s }
func (s *countSink) Handle(_ context.Context, r slog.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		s.suppressed = ""
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "suppressed" {
				s.suppressed = a.Value.String()
			}
			return true
		})
	}
	s.n++
	return nil
}

// take returns the count since the last take and resets it.
func (s *countSink) take() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.n
	s.n = 0
	return n
}
