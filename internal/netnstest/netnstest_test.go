package netnstest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// helperEnv makes the test binary act as a helper program (see TestMain).
const helperEnv = "NETNSTEST_HELPER"

// TestMain runs the test binary as a helper when helperEnv is set:
// "serve ADDR" accepts one TCP connection on ADDR and writes "hello" to it
// (printing "listening" first), "dial ADDR" prints what ADDR sends.
func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		if err := helper(mode, os.Args[len(os.Args)-1]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helper runs one helper mode on addr.
func helper(mode, addr string) error {
	switch mode {
	case "serve":
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		defer l.Close()
		fmt.Println("listening")
		fmt.Fprintln(os.Stderr, "serving", addr)
		c, err := l.Accept()
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("hello"))
		return err
	case "dial":
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
			return err
		}
		b := make([]byte, 16)
		n, err := c.Read(b)
		fmt.Print(string(b[:n]))
		return err
	}
	return errors.New("unknown helper mode " + mode)
}

func TestLinkExecStart(t *testing.T) {
	n := New(t, "avedge-netnstest")
	a, b := n.Add("a"), n.Add("b")
	if !strings.HasPrefix(a, fmt.Sprintf("avedge-netnstest-%d-", os.Getpid())) || !strings.HasSuffix(a, "-a") || n.Name("b") != b {
		t.Fatalf("namespace names %q, %q", a, b)
	}
	v := n.Link("a", "b", "10.201.0.1/24", "10.201.0.2/24")
	if v != (Veth{A: "b", B: "a"}) {
		t.Errorf("Link = %+v, want the ends named after the other namespace", v)
	}
	t.Run("addresses", func(t *testing.T) {
		out := n.For(t).MustExec("a", "ip", "-o", "-4", "addr", "show", "dev", "b")
		if !strings.Contains(string(out), "10.201.0.1/24") {
			t.Errorf("ip addr in a: %s, want 10.201.0.1/24 on b", out)
		}
	})
	t.Run("sysctl", func(t *testing.T) {
		n := n.For(t)
		for _, want := range []string{"1", "0"} {
			n.Sysctl("b", "net.ipv4.ip_forward", want)
			if got := strings.TrimSpace(string(n.MustExec("b", "sysctl", "-n", "net.ipv4.ip_forward"))); got != want {
				t.Errorf("net.ipv4.ip_forward = %q, want %q", got, want)
			}
		}
	})
	t.Run("TCP across the link", func(t *testing.T) {
		n := n.For(t)
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		srv := n.StartWith("b", StartOptions{Env: []string{helperEnv + "=serve"}, Limit: 20 * time.Second}, self, "10.201.0.2:7000")
		if got := srv.Line(10 * time.Second); got != "listening" {
			t.Fatalf("server: %q, want listening", got)
		}
		srv.WaitStderr("serving 10.201.0.2:7000", 10*time.Second)
		out, err := n.Exec("a", "env", helperEnv+"=dial", self, "10.201.0.2:7000")
		if err != nil || string(out) != "hello" {
			t.Errorf("dial from a: %q, %v; want hello", out, err)
		}
		select {
		case <-srv.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("server did not exit after one connection")
		}
		if err := srv.Err(); err != nil {
			t.Errorf("server exit: %v", err)
		}
	})
	t.Run("stdin and stop", func(t *testing.T) {
		n := n.For(t)
		p := n.Start("a", "sh", "-c", `read x; echo "got $x"; exec sleep 60`)
		p.WriteLine("ping")
		if got := p.Line(10 * time.Second); got != "got ping" {
			t.Errorf("line %q, want got ping", got)
		}
		if err := p.Stop(); err == nil {
			t.Error("Stop: the interrupted process exited without an error")
		}
	})
	t.Run("unknown namespace", func(t *testing.T) {
		if _, err := n.Exec("nope", "true"); !errors.Is(err, ErrUnknownNamespace) {
			t.Errorf("Exec in an unknown namespace: %v, want ErrUnknownNamespace", err)
		}
	})
}

func TestRemoveStale(t *testing.T) {
	const prefix = "avedge-netnstest-stale-"
	New(t, prefix) // skips without root
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf("%s%d-00000000-x", prefix, dead.Process.Pid)
	live := fmt.Sprintf("%s%d-00000000-x", prefix, os.Getpid())
	for _, name := range []string{stale, live} {
		if out, err := ip("netns", "add", name); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", name, err, out)
		}
		t.Cleanup(func() { _, _ = ip("netns", "del", name) })
	}
	RemoveStale(t, prefix)
	out, err := ip("netns", "list")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), stale) || !strings.Contains(string(out), live) {
		t.Errorf("after RemoveStale: %s\nwant %s gone and %s kept", out, stale, live)
	}
}
