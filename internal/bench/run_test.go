package bench

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"
)

// contractKeys are the keys of the bench contract's JSON result.
var contractKeys = []string{"mode", "server", "duration_s", "calls", "sent", "received", "loss",
	"pps_to_peer", "pps_to_client", "latency_us", "server_cpu_s", "server_cpu_us_per_packet",
	"machine_cpu_s", "machine_busy", "machine_cpu_us_per_packet", "generator_cpu_s", "generator_cpu_us_per_packet",
	"softirqd_cpu_s", "accounted_cpu_us_per_packet",
	"server_rss_bytes", "allocations_per_s", "rate_per_call", "max_loss", "errors"}

func checkJSON(t *testing.T, res Result) map[string]any {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range contractKeys {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	if len(m) != len(contractKeys) {
		t.Errorf("JSON has %d keys, want %d: %s", len(m), len(contractKeys), b)
	}
	return m
}

func TestRunMedia(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"audio", func(c *Config) {}},
		{"audio Poisson arrivals", func(c *Config) { c.Arrivals = ArrivalsPoisson }},
		{"audio static user", func(c *Config) { c.Secret, c.User, c.Password = "", testUser, testPass }},
		{"video", func(c *Config) { c.Mode, c.Calls, c.Size = ModeVideo, 3, 1200 }},
		{"flood paced", func(c *Config) { c.Mode, c.Calls, c.Rate = ModeFlood, 2, 2000 }},
		{"flood", func(c *Config) { c.Mode, c.Calls = ModeFlood, 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startEdge(t)
			cfg := shortConfig(ModeAudio, srv)
			tt.mod(&cfg)
			if cfg.Mode == "" {
				cfg.Mode = ModeAudio
			}
			cfg.PID = os.Getpid()
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			checkJSON(t, res)
			if res.Calls != cfg.Calls || *res.Sent == 0 || *res.Received == 0 {
				t.Fatalf("calls %d sent %d received %d, errors %v", res.Calls, *res.Sent, *res.Received, res.Errors)
			}
			// Flood may lose packets by design; paced modes on loopback
			// must not lose more than a trace.
			if cfg.Mode != ModeFlood || cfg.Rate > 0 {
				if *res.Loss > 0.01 {
					t.Errorf("loss %v (sent %d, at peer %v, received %d), errors %v", *res.Loss, *res.Sent, *res.PPSToPeer, *res.Received, res.Errors)
				}
			}
			if *res.PPSToPeer <= 0 || *res.PPSToClient <= 0 {
				t.Errorf("pps to peer %v, to client %v", *res.PPSToPeer, *res.PPSToClient)
			}
			if l := res.LatencyUS; l == nil || l.P50 <= 0 || l.P99 < l.P50 || l.P999 < l.P99 {
				t.Errorf("latency %+v", res.LatencyUS)
			}
			if res.ServerCPUS == nil || res.ServerCPUUSPerPacket == nil || res.ServerRSSBytes == nil || *res.ServerRSSBytes == 0 {
				t.Errorf("server stats missing: %+v", res)
			}
			checkMachineStats(t, res)
			if res.AllocationsPerS != nil {
				t.Errorf("allocations_per_s = %v outside churn", *res.AllocationsPerS)
			}
		})
	}
}

func TestRunAudioRate(t *testing.T) {
	srv := startEdge(t)
	cfg := shortConfig(ModeAudio, srv)
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 10 calls at 50 pps for 1 s: 500 packets, give or take a slot.
	if want := uint64(cfg.Calls * cfg.PPS); *res.Sent < want*9/10 || *res.Sent > want*11/10 {
		t.Errorf("sent %d, want about %d", *res.Sent, want)
	}
}

// TestRunAudioPoisson: with Poisson arrivals the calls send at the
// configured mean rate (a Poisson count of mean 500 over 1 s falls within
// 20 % of it with overwhelming probability: 4.5 standard deviations).
func TestRunAudioPoisson(t *testing.T) {
	srv := startEdge(t)
	cfg := shortConfig(ModeAudio, srv)
	cfg.Arrivals = ArrivalsPoisson
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(cfg.Calls * cfg.PPS); *res.Sent < want*8/10 || *res.Sent > want*12/10 {
		t.Errorf("sent %d, want about %d", *res.Sent, want)
	}
}

func TestRunChurn(t *testing.T) {
	srv := startEdge(t)
	cfg := shortConfig(ModeChurn, srv)
	cfg.Calls = 4
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := checkJSON(t, res)
	if res.AllocationsPerS == nil || *res.AllocationsPerS <= 0 {
		t.Errorf("allocations/s %v, errors %v", m["allocations_per_s"], res.Errors)
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors %v", res.Errors)
	}
}

func TestRunBadCredentials(t *testing.T) {
	srv := startEdge(t)
	cfg := shortConfig(ModeAudio, srv)
	cfg.Secret = "wrong-secret-0123456789abcdef"
	cfg.Calls = 2
	res, err := Run(context.Background(), cfg)
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("Run = %+v, %v; want ErrRejected", res, err)
	}
}

func TestRunCancelled(t *testing.T) {
	srv := startEdge(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, shortConfig(ModeAudio, srv))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
}

// checkMachineStats checks the whole-machine, generator and accounted CPU
// figures of a media run: present, the busy share within 0..1, and the per-packet
// figures the seconds divided by the relayed packets.
func checkMachineStats(t *testing.T, res Result) {
	t.Helper()
	if res.MachineCPUS == nil || res.MachineBusy == nil || res.MachineCPUUSPerPacket == nil ||
		res.GeneratorCPUS == nil || res.GeneratorCPUUSPerPacket == nil || res.SoftirqdCPUS == nil || res.AccountedCPUUSPerPacket == nil {
		t.Fatalf("machine or generator stats missing: %+v", res)
	}
	if b := *res.MachineBusy; b < 0 || b > 1 {
		t.Errorf("machine busy share %v, want 0..1", b)
	}
	relayed := (*res.PPSToPeer + *res.PPSToClient) * res.DurationS
	for _, f := range []struct{ s, us float64 }{
		{*res.MachineCPUS, *res.MachineCPUUSPerPacket},
		{*res.GeneratorCPUS, *res.GeneratorCPUUSPerPacket},
		{*res.ServerCPUS + *res.GeneratorCPUS + *res.SoftirqdCPUS, *res.AccountedCPUUSPerPacket},
	} {
		if want := f.s * 1e6 / relayed; math.Abs(f.us-want) > 1e-6*max(1, want) {
			t.Errorf("%v µs per packet, want %v (%v s over %v packets)", f.us, want, f.s, relayed)
		}
	}
}
