package records

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/server/stats"
)

var (
	testStart = time.Date(2026, 11, 21, 20, 46, 15, 123_456_789, time.FixedZone("CET", 3600))
	udpRecord = stats.Record{
		Username:        "1795000000:alice",
		Identity:        "alice",
		Client:          netip.MustParseAddrPort("198.51.100.7:40000"),
		Relayed:         netip.MustParseAddrPort("203.0.113.10:50002"),
		Dialect:         "rfc",
		Transport:       "udp",
		RelayProtocol:   "udp",
		Start:           testStart,
		End:             testStart.Add(90*time.Second + 250*time.Millisecond),
		Reason:          "refresh 0",
		ToPeerPackets:   3,
		ToPeerBytes:     300,
		ToClientPackets: 2,
		ToClientBytes:   180,
	}
)

// lockedBuffer is a bytes.Buffer safe for the writer goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// gate is an io.Writer whose writes block until release is closed; entered
// receives once when the first write starts.
type gate struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	out     lockedBuffer
}

func newGate() *gate { return &gate{entered: make(chan struct{}), release: make(chan struct{})} }

func (g *gate) Write(p []byte) (int, error) {
	g.once.Do(func() { close(g.entered) })
	<-g.release
	return g.out.Write(p)
}

// failing is an io.Writer that always fails.
type failing struct{}

var errDiskFull = errors.New("disk full")

func (failing) Write([]byte) (int, error) { return 0, errDiskFull }

// testLogger returns a logger writing text lines into a buffer.
func testLogger() (*slog.Logger, *lockedBuffer) {
	var b lockedBuffer
	return slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelWarn})), &b
}

func TestLineGolden(t *testing.T) {
	tcp := udpRecord
	tcp.Username, tcp.Identity = "static", "static"
	tcp.Transport, tcp.RelayProtocol, tcp.Reason = "tls", "tcp", "connection closed"
	ms := udpRecord
	ms.Dialect, ms.Transport = "ms-turn", "pseudo-tls"
	tcp.Client = netip.MustParseAddrPort("[2001:db8::7]:443")
	tcp.End = tcp.Start
	dual := udpRecord
	dual.Additional = netip.MustParseAddrPort("[2001:db8::10]:50003")
	dual.Username = `1795000000:<bob "b">`
	dual.Identity = `<bob "b">`
	interim := udpRecord
	interim.Interim, interim.Reason = true, ""
	tenant := udpRecord
	tenant.Tenant = "b"
	for _, tc := range []struct {
		name string
		rec  stats.Record
		want string
	}{
		{"udp", udpRecord, `{"kind":"end","user":"1795000000:alice","identity":"alice","client":"198.51.100.7:40000","relayed":"203.0.113.10:50002","dialect":"rfc","transport":"udp","relay_protocol":"udp","start":"2026-11-21T19:46:15.123Z","end":"2026-11-21T19:47:45.373Z","duration_s":90.25,"to_peer_packets":3,"to_peer_bytes":300,"to_client_packets":2,"to_client_bytes":180,"end_reason":"refresh 0"}`},
		{"tls tcp relay", tcp, `{"kind":"end","user":"static","identity":"static","client":"[2001:db8::7]:443","relayed":"203.0.113.10:50002","dialect":"rfc","transport":"tls","relay_protocol":"tcp","start":"2026-11-21T19:46:15.123Z","end":"2026-11-21T19:46:15.123Z","duration_s":0,"to_peer_packets":3,"to_peer_bytes":300,"to_client_packets":2,"to_client_bytes":180,"end_reason":"connection closed"}`},
		{"dual", dual, `{"kind":"end","user":"1795000000:<bob \"b\">","identity":"<bob \"b\">","client":"198.51.100.7:40000","relayed":"203.0.113.10:50002","additional_relayed":"[2001:db8::10]:50003","dialect":"rfc","transport":"udp","relay_protocol":"udp","start":"2026-11-21T19:46:15.123Z","end":"2026-11-21T19:47:45.373Z","duration_s":90.25,"to_peer_packets":3,"to_peer_bytes":300,"to_client_packets":2,"to_client_bytes":180,"end_reason":"refresh 0"}`},
		{"ms-turn over pseudo-tls", ms, `{"kind":"end","user":"1795000000:alice","identity":"alice","client":"198.51.100.7:40000","relayed":"203.0.113.10:50002","dialect":"ms-turn","transport":"pseudo-tls","relay_protocol":"udp","start":"2026-11-21T19:46:15.123Z","end":"2026-11-21T19:47:45.373Z","duration_s":90.25,"to_peer_packets":3,"to_peer_bytes":300,"to_client_packets":2,"to_client_bytes":180,"end_reason":"refresh 0"}`},
		{"interim", interim, `{"kind":"interim","user":"1795000000:alice","identity":"alice","client":"198.51.100.7:40000","relayed":"203.0.113.10:50002","dialect":"rfc","transport":"udp","relay_protocol":"udp","start":"2026-11-21T19:46:15.123Z","end":"2026-11-21T19:47:45.373Z","duration_s":90.25,"to_peer_packets":3,"to_peer_bytes":300,"to_client_packets":2,"to_client_bytes":180}`},
		{"tenant", tenant, `{"kind":"end","user":"1795000000:alice","identity":"alice","tenant":"b","client":"198.51.100.7:40000","relayed":"203.0.113.10:50002","dialect":"rfc","transport":"udp","relay_protocol":"udp","start":"2026-11-21T19:46:15.123Z","end":"2026-11-21T19:47:45.373Z","duration_s":90.25,"to_peer_packets":3,"to_peer_bytes":300,"to_client_packets":2,"to_client_bytes":180,"end_reason":"refresh 0"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out lockedBuffer
			w := New(&out, Options{})
			w.Write(tc.rec)
			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if got := out.String(); got != tc.want+"\n" {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestFullQueueDrops: while the output blocks, Write neither blocks nor
// loses count: the records beyond the queue are dropped and counted, one
// warning says so, and Close writes everything that was queued.
func TestFullQueueDrops(t *testing.T) {
	g := newGate()
	log, logs := testLogger()
	w := New(g, Options{QueueSize: 4, Logger: log, Clock: clock.NewFake(testStart)})
	w.Write(udpRecord) // taken by the writer goroutine, which then blocks in g.Write
	<-g.entered
	returned := make(chan struct{})
	go func() {
		for range 4 + 3 {
			w.Write(udpRecord)
		}
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("Write blocked behind a blocked output")
	}
	if got := w.Dropped(); got != 3 {
		t.Fatalf("Dropped() = %d, want 3", got)
	}
	close(g.release)
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := strings.Count(g.out.String(), "\n"); got != 5 {
		t.Errorf("%d lines written, want 5", got)
	}
	if got := strings.Count(logs.String(), "records dropped"); got != 1 {
		t.Errorf("%d drop warnings, want 1:\n%s", got, logs)
	}
	if !strings.Contains(logs.String(), "dropped=3") {
		t.Errorf("warning does not count 3 drops:\n%s", logs)
	}
	w.Write(udpRecord)
	if got := w.Dropped(); got != 4 {
		t.Errorf("Dropped() after Close = %d, want 4", got)
	}
}

// TestCloseFlushes: Close called while the output is blocked writes every
// queued record once the output moves again, before it returns.
func TestCloseFlushes(t *testing.T) {
	g := newGate()
	w := New(g, Options{QueueSize: 16})
	for range 10 {
		w.Write(udpRecord)
	}
	<-g.entered
	closed := make(chan error, 1)
	go func() { closed <- w.Close() }()
	close(g.release)
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := strings.Count(g.out.String(), "\n"); got != 10 {
		t.Errorf("%d lines written, want 10", got)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Reopen(); !errors.Is(err, ErrClosed) {
		t.Errorf("Reopen after Close: %v, want ErrClosed", err)
	}
}

// TestWriteErrors: a failing output is counted and warned about once per
// minute, and never stops the writer.
func TestWriteErrors(t *testing.T) {
	log, logs := testLogger()
	clk := clock.NewFake(testStart)
	w := New(failing{}, Options{Logger: log, Clock: clk})
	for range 5 {
		w.Write(udpRecord)
	}
	err := w.Close()
	if !errors.Is(err, errDiskFull) && w.WriteErrors() == 0 {
		t.Fatalf("Close: %v, WriteErrors() = 0", err)
	}
	if got := w.WriteErrors(); got == 0 {
		t.Fatalf("WriteErrors() = 0")
	}
	if got := strings.Count(logs.String(), "write failed"); got != 1 {
		t.Errorf("%d write warnings, want 1:\n%s", got, logs)
	}
}

func TestLimiter(t *testing.T) {
	l := limiter{every: time.Minute}
	for i, tc := range []struct {
		after time.Duration // since testStart
		want  bool
	}{
		{0, true},
		{time.Second, false},
		{59 * time.Second, false},
		{time.Minute, true},
		{90 * time.Second, false},
		{3 * time.Minute, true},
	} {
		if got := l.allow(testStart.Add(tc.after)); got != tc.want {
			t.Errorf("%d: allow(+%v) = %v, want %v", i, tc.after, got, tc.want)
		}
	}
}

// TestReopen: after the file is renamed, Reopen sends later records to a
// new file at the path; the records written before stay in the old one.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sessions.jsonl")
	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, second := udpRecord, udpRecord
	first.Identity, second.Identity = "first", "second"
	w.Write(first)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := w.Reopen(); err != nil {
		t.Fatalf("Reopen: %v", err)
	}
	w.Write(second)
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for file, want := range map[string]string{path + ".1": `"identity":"first"`, path: `"identity":"second"`} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(string(b), "\n") != 1 || !strings.Contains(string(b), want) {
			t.Errorf("%s holds %q, want one line with %s", file, b, want)
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm&^0o640 != 0 {
		t.Errorf("mode %04o, want at most 0640", perm)
	}
}

// TestOpenAppends: a file that exists is appended to, not truncated.
func TestOpenAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.jsonl")
	if err := os.WriteFile(path, []byte("earlier\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(udpRecord)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"); len(lines) != 2 || lines[0] != "earlier" {
		t.Errorf("file holds %q, want the earlier line and one record", b)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		output string
		want   error
	}{
		{"", ErrNoOutput},
		{dir, nil}, // a directory: any error
		{filepath.Join(dir, "missing", "sessions.jsonl"), os.ErrNotExist},
	} {
		w, err := Open(tc.output, Options{})
		if err == nil {
			w.Close()
			t.Errorf("Open(%q) succeeded", tc.output)
			continue
		}
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("Open(%q) = %v, want %v", tc.output, err, tc.want)
		}
	}
}

// TestStdout: "stdout" is not a file: Reopen does nothing and Close leaves
// standard output open.
func TestStdout(t *testing.T) {
	w, err := Open("stdout", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Reopen(); err != nil {
		t.Errorf("Reopen: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := os.Stdout.Stat(); err != nil {
		t.Errorf("stdout after Close: %v", err)
	}
}
