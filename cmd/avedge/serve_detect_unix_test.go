//go:build unix

package main

import (
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/servertest"
)

// TestServeDetectsAdvertised serves a configuration with relay.advertised:
// auto and a STUN server beyond a (pretended) 1:1 NAT: the edge logs the
// detected address with its source (and in its "relaying" line) and hands it out in
// XOR-RELAYED-ADDRESS; a reload of the same file, or of one that writes the
// detected address, detects nothing again, keeps the allocation and logs no
// change that needs a restart.
func TestServeDetectsAdvertised(t *testing.T) {
	public := netip.MustParseAddrPort("203.0.113.5:40000")
	stun := servertest.NewSTUN(t, public, 0)
	port := freeUDPPort(t)
	path := cliConfig(t, t.TempDir(), port, "31200-31299", "")
	auto := "  ports: 31200-31299\n  advertised: auto\n  detect_with: [\"" + stun.Addr.String() + "\"]\n"
	rewrite(t, path, "  ports: 31200-31299\n", auto)
	s := serve(t, path, "detected relay.advertised", "address=203.0.113.5", `source="stun `+stun.Addr.String()+`"`)
	s.wait("relaying", "advertised=[203.0.113.5]")

	c := credsIssue(t, path)
	tc := turnClient(t, port, c.Username, c.Password, c.Realm)
	relayed, code := tc.Allocate()
	if code != 0 || relayed.Addr() != public.Addr() || relayed.Port() < 31200 || relayed.Port() > 31299 {
		t.Fatalf("allocate: %v, code %d; want %v with a relay port", relayed, code, public.Addr())
	}
	asked := stun.Requests()

	// Restart warnings follow "reloaded secrets"; the next reload's first
	// line ends them.
	check := func(name string, lines []string) {
		for _, line := range lines {
			if strings.Contains(line, "restart") || strings.Contains(line, "failed") {
				t.Errorf("reload of %s logged %q", name, line)
			}
		}
	}
	hup := func() {
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	last := "the start"
	for _, step := range []struct{ name, from, to string }{
		{"the same file", "", ""},
		{"the detected address written", "advertised: auto", "advertised: 203.0.113.5"},
	} {
		rewrite(t, path, step.from, step.to)
		hup()
		check(last, s.until("reloading the configuration"))
		check(step.name, s.until("reloaded secrets"))
		if code := tc.Refresh(10 * time.Minute); code != 0 {
			t.Errorf("after the reload of %s: Refresh: error code %d, want the allocation kept", step.name, code)
		}
		last = step.name
	}
	hup()
	check(last, s.until("reloading the configuration"))
	if n := stun.Requests(); n != asked {
		t.Errorf("the STUN server got %d requests after start, want none: a reload detects nothing", n-asked)
	}
}

// until returns the log lines up to the first one containing part,
// included.
func (s *served) until(part string) []string {
	s.t.Helper()
	var lines []string
	deadline := time.After(5 * time.Second)
	for {
		select {
		case line := <-s.lines:
			lines = append(lines, line)
			if strings.Contains(line, part) {
				return lines
			}
		case <-deadline:
			s.t.Fatalf("no log line with %q; got %q", part, lines)
			return nil
		}
	}
}
