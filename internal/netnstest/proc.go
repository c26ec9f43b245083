package netnstest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// DefaultLimit bounds the life of a process started with Start.
const DefaultLimit = 2 * time.Minute

// StartOptions tune StartWith.
type StartOptions struct {
	// Env is added to the test process's environment.
	Env []string
	// Limit bounds the process's life: it is interrupted (SIGINT, then
	// killed 3 seconds later) after Limit. Zero means DefaultLimit.
	Limit time.Duration
}

// Proc is a long-running process in a namespace, started by Start: its
// standard output comes line by line, its standard error is kept, and it
// is interrupted when the test (or subtest, see For) ends.
type Proc struct {
	n      *Net
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *watcher
	cancel context.CancelFunc
	done   chan struct{} // closed once the process has exited
	err    error         // its exit error, set before done closes
}

// Start runs args in namespace ns as StartWith does with no options.
func (n *Net) Start(ns string, args ...string) *Proc {
	n.t.Helper()
	return n.StartWith(ns, StartOptions{}, args...)
}

// StartWith starts args in namespace ns and returns at once. The process
// is stopped (SIGINT, then killed) when the test ends or after o.Limit;
// when the test has failed by then, its standard error is logged.
func (n *Net) StartWith(ns string, o StartOptions, args ...string) *Proc {
	n.t.Helper()
	full := n.Name(ns)
	if len(args) == 0 {
		n.t.Fatalf("netnstest: Start in %s: no command", ns)
	}
	if o.Limit == 0 {
		o.Limit = DefaultLimit
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Limit)
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", full}, args...)...)
	cmd.Env = append(os.Environ(), o.Env...)
	// ip netns exec execs the program: the signal reaches it directly.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 3 * time.Second
	p := &Proc{n: n, name: args[0], cmd: cmd, lines: make(chan string, 64), stderr: newWatcher(),
		cancel: cancel, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		n.t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		n.t.Fatal(err)
	}
	p.stdin = stdin
	if err := cmd.Start(); err != nil {
		cancel()
		n.t.Fatalf("netnstest: starting %s in %s: %v", p.name, ns, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.err = cmd.Wait()
		p.stderr.close()
		close(p.done)
	}()
	t := n.t
	t.Cleanup(func() {
		_ = p.Stop()
		if t.Failed() {
			t.Logf("%s in %s (exit: %v) standard error:\n%s", p.name, ns, p.err, p.stderr.String())
		}
	})
	return p
}

// Line returns the next line of standard output, failing the test if none
// comes within limit or the process ends first. A process that prints
// lines nobody reads blocks once 64 are pending.
func (p *Proc) Line(limit time.Duration) string {
	p.n.t.Helper()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case l, ok := <-p.lines:
		if ok {
			return l
		}
		<-p.done
		p.n.t.Fatalf("%s ended (%v) without the expected output; standard error:\n%s", p.name, p.err, p.stderr.String())
	case <-timer.C:
		p.n.t.Fatalf("%s: no output within %v; standard error:\n%s", p.name, limit, p.stderr.String())
	}
	return ""
}

// Lines returns the channel of the process's standard output lines, for a
// reader of its own (in place of Line); it is closed when the output ends.
func (p *Proc) Lines() <-chan string { return p.lines }

// Kill kills the process at once (SIGKILL, as a crash or an OOM kill
// would) and waits for it to exit.
func (p *Proc) Kill() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.done
	return nil
}

// WriteLine writes s and a newline to the process's standard input,
// failing the test on error.
func (p *Proc) WriteLine(s string) {
	p.n.t.Helper()
	if _, err := io.WriteString(p.stdin, s+"\n"); err != nil {
		p.n.t.Fatalf("%s: writing to standard input: %v", p.name, err)
	}
}

// WaitStderr waits until the process's standard error contains want,
// failing the test if it does not within limit or the process ends first.
func (p *Proc) WaitStderr(want string, limit time.Duration) {
	p.n.t.Helper()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		text, changed := p.stderr.snapshot()
		switch {
		case strings.Contains(text, want):
			return
		case changed == nil:
			p.n.t.Fatalf("%s ended (%v) before writing %q to standard error:\n%s", p.name, p.Err(), want, text)
		}
		select {
		case <-changed:
		case <-timer.C:
			p.n.t.Fatalf("%s did not write %q to standard error within %v:\n%s", p.name, want, limit, text)
		}
	}
}

// Stderr returns what the process has written to standard error so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Done is closed once the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err returns the process's exit error once Done is closed, and nil
// before.
func (p *Proc) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Stop interrupts the process (SIGINT, then kills it 3 seconds later),
// waits for it to exit and returns its exit error. Stopping a process that
// has exited returns its exit error.
func (p *Proc) Stop() error {
	p.cancel()
	<-p.done
	return p.err
}

// watcher keeps what is written to it and wakes up waiters on each write.
type watcher struct {
	mu      sync.Mutex
	buf     strings.Builder
	changed chan struct{} // closed and replaced on each write; nil once closed for good
}

// newWatcher returns an empty watcher.
func newWatcher() *watcher { return &watcher{changed: make(chan struct{})} }

// Write keeps b and wakes up waiters.
func (w *watcher) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	if w.changed != nil {
		close(w.changed)
		w.changed = make(chan struct{})
	}
	return len(b), nil
}

// close wakes up waiters for the last time: nothing more will be written.
func (w *watcher) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.changed != nil {
		close(w.changed)
		w.changed = nil
	}
}

// snapshot returns everything written so far and a channel closed on the
// next write, or nil when nothing more will be written.
func (w *watcher) snapshot() (string, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.changed == nil {
		return w.buf.String(), nil
	}
	return w.buf.String(), w.changed
}

// String returns everything written so far.
func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
