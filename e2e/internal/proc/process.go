package proc

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Process is a child process whose output is kept for the test's log.
type Process struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	seen chan struct{} // closed when a line holds the awaited text
}

// Start starts name with args and the environment env (nil: this
// process's), killed when the test ends; ready, if not empty, is the text
// of an output line that tells the process is serving.
func Start(t testing.TB, ready string, env []string, name string, args ...string) *Process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &Process{cmd: exec.CommandContext(ctx, name, args...), seen: make(chan struct{})}
	p.cmd.Env = env
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		once := sync.Once{}
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if ready != "" && strings.Contains(sc.Text(), ready) {
				once.Do(func() { close(p.seen) })
			}
		}
	}()
	t.Cleanup(func() {
		cancel() // kills the process
		_ = p.cmd.Wait()
		_ = w.Close()
		<-done
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.Output())
		}
	})
	return p
}

// Output returns what the process wrote so far.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// WaitReady waits for the ready line, failing the test after limit.
func (p *Process) WaitReady(t testing.TB, limit time.Duration) {
	t.Helper()
	select {
	case <-p.seen:
	case <-time.After(limit):
		t.Fatalf("%s not ready after %v:\n%s", p.cmd.Path, limit, p.Output())
	}
}
