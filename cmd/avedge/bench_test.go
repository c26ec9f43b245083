package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/avedge/avedge/internal/bench"
	"github.com/avedge/avedge/internal/servertest"
)

func TestBenchRawJSON(t *testing.T) {
	p, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	peer := p.LocalAddr().(*net.UDPAddr).AddrPort()
	_ = p.Close()
	fwd := servertest.Forwarder(t, peer)
	out, stderr, err := run(t, context.Background(), "bench", "audio", "--raw", "--json", "--calls", "3",
		"--duration", "1s", "--server", fwd.String(), "--peer", peer.String())
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if res["mode"] != "audio" || res["calls"] != float64(3) || res["sent"] == float64(0) || res["server_cpu_s"] != nil {
		t.Errorf("result %v", res)
	}
	if !strings.Contains(stderr, "measuring") {
		t.Errorf("no progress line on stderr: %q", stderr)
	}
}

// TestBenchSecretFile: --secret-file reads the REST secret from a file
// (its trailing newline dropped), so that it stays out of ps, and the
// bench authenticates with it against a real edge: churn fails unless
// one of its Allocate and Refresh cycles completed.
func TestBenchSecretFile(t *testing.T) {
	port := freeUDPPort(t)
	dir := t.TempDir()
	serve(t, cliConfig(t, dir, port, "31700-31709", ""), "relaying")
	for _, tc := range []struct {
		secret string
		ok     bool
	}{{cliSecret + "\n", true}, {"another-secret-0123456789\n", false}} {
		secret := filepath.Join(dir, "bench.secret")
		if err := os.WriteFile(secret, []byte(tc.secret), 0o600); err != nil {
			t.Fatal(err)
		}
		_, stderr, err := run(t, context.Background(), "bench", "churn", "--json", "--parallel", "1", "--duration", "200ms",
			"--server", fmt.Sprintf("127.0.0.1:%d", port), "--secret-file", secret)
		if (err == nil) != tc.ok {
			t.Errorf("secret file %q: bench error %v, want success %v\n%s", tc.secret, err, tc.ok, stderr)
		}
	}
}

func TestBenchErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "bogus", "--secret", "s"}, `unknown mode "bogus"`},
		{[]string{"bench", "audio"}, "need --secret or --user and --password"},
		{[]string{"bench", "churn", "--raw"}, "churn needs a TURN server"},
		{[]string{"bench"}, "accepts 1 arg"},
		{[]string{"bench", "flood", "--raw", "--max-loss", "100"}, "max loss must be 0..1"},
		{[]string{"bench", "audio", "--secret", "s", "--secret-file", "f"}, "give --secret or --secret-file, not both"},
		{[]string{"bench", "audio", "--secret-file", "/nonexistent/secret"}, "--secret-file: cannot read \"/nonexistent/secret\""},
	} {
		_, _, err := run(t, context.Background(), tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}

// TestPrintBenchSearch: the summary of a rate search says whether its rate
// kept within the loss bound.
func TestPrintBenchSearch(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		loss float64
		want string
	}{
		{0.0005, "offered            2500 packets/s per allocation (the highest the search found with loss within 0.1000%)"},
		{0.02, "offered            2500 packets/s per allocation (the search's first rate: already over the 0.1000% loss bound)"},
	} {
		var b strings.Builder
		printBench(&b, bench.Result{Mode: "flood", Loss: f(tc.loss), RatePerCall: f(2500), MaxLoss: f(0.001)})
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("loss %v: summary\n%s\nlacks %q", tc.loss, b.String(), tc.want)
		}
	}
}

// TestPrintBenchMachine: the summary shows the whole machine's CPU time,
// its share of all cores, the bench's own and the accounted CPU time, per
// relayed packet.
func TestPrintBenchMachine(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	var b strings.Builder
	printBench(&b, bench.Result{Mode: "audio", MachineCPUS: f(12.5), MachineBusy: f(0.625), MachineCPUUSPerPacket: f(25),
		GeneratorCPUS: f(4), GeneratorCPUUSPerPacket: f(8), AccountedCPUUSPerPacket: f(11.5)})
	for _, want := range []string{
		"machine CPU        12.500 s (62% of all cores), 25.000 us per relayed packet\n",
		"this bench's CPU   4.000 s, 8.000 us per relayed packet\n",
		"server+bench+ksoftirqd CPU 11.500 us per relayed packet\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary\n%s\nlacks %q", b.String(), want)
		}
	}
}
