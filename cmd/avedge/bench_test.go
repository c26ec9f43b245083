package main

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"

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

func TestBenchErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "bogus", "--secret", "s"}, `unknown mode "bogus"`},
		{[]string{"bench", "audio"}, "need --secret or --user and --password"},
		{[]string{"bench", "churn", "--raw"}, "churn needs a TURN server"},
		{[]string{"bench"}, "accepts 1 arg"},
	} {
		_, _, err := run(t, context.Background(), tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}
