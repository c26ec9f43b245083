package netns

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// proc is a long-running program in a namespace: its standard output comes
// line by line, its standard error is kept for diagnostics and watched for
// one string.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *watcher
	done   chan struct{} // closed once the process has exited
	err    error         // its exit error, set before done closes
}

// startIn starts name with args in namespace ns with extra environment
// env; it is interrupted (SIGINT, then killed) after limit or when the test
// ends. watch is the string whose appearance on standard error
// proc.stderr.seen reports.
func startIn(t *testing.T, ns string, limit time.Duration, env []string, watch, name string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	// ip netns exec execs the program: the signal reaches it directly.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 3 * time.Second
	p := &proc{name: name, cmd: cmd, lines: make(chan string, 16), stderr: newWatcher(watch), done: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdin = stdin
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s in %s: %v", name, ns, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
		if t.Failed() {
			t.Logf("%s in %s (exit: %v) standard error:\n%s", name, ns, p.err, p.stderr.String())
		}
	})
	return p
}

// line returns the next line of standard output, failing the test if none
// comes within limit.
func (p *proc) line(t *testing.T, limit time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			<-p.done
			t.Fatalf("%s ended (%v) without the expected output; standard error:\n%s", p.name, p.err, p.stderr.String())
		}
		return l
	case <-time.After(limit):
		t.Fatalf("%s: no output within %v; standard error:\n%s", p.name, limit, p.stderr.String())
	}
	return ""
}

// watcher keeps what is written to it and closes seen once it holds want.
type watcher struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

// newWatcher returns a watcher for want; an empty want is never seen.
func newWatcher(want string) *watcher {
	return &watcher{want: want, seen: make(chan struct{})}
}

// Write keeps b and checks for want.
func (w *watcher) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	if w.want != "" && strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(b), nil
}

// String returns everything written so far.
func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
