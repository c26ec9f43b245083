package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/avedge/avedge/internal/bench"
)

// benchWarmup is the unmeasured time before the window.
const benchWarmup = time.Second

func newBenchCmd() *cobra.Command {
	cfg := bench.Config{Warmup: benchWarmup}
	var jsonOut bool
	var calls, allocations, parallel, size, packetSize int
	var maxLossPercent float64
	cmd := &cobra.Command{
		Use:   "bench audio|flood|video|churn",
		Short: "Load a TURN server (or a bare forwarder with --raw) and report rates, loss and latency",
		Long: `Run a real TURN client load against a server over UDP and report relayed
packets/s each way, loss and round-trip latency (p50/p99/p999), the server's
CPU time per relayed packet and memory (with --pid), or allocations/s (churn).

  audio   --calls N allocations, each sending --pps packets/s of --size bytes
          over a channel to the built-in echo peer
  flood   --allocations K sending as fast as possible (or --rate pps each);
          with --max-loss, a rate search: the highest rate whose loss
          stays within the bound (doubling from --rate, then bisecting)
  video   --calls N, a --frame-size burst every --frame-interval in
          --packet-size packets
  churn   --parallel P loops of Allocate (401 round trip) and Refresh 0

Credentials: --secret makes TURN REST usernames "<expiry>:benchN"; the
development edge's secret is the content of its dev.secret file, used as is.`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"audio", "flood", "video", "churn"},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Mode = bench.Mode(args[0])
			switch cfg.Mode {
			case bench.ModeAudio:
				cfg.Calls, cfg.Size = calls, size
			case bench.ModeFlood:
				cfg.Calls, cfg.Size, cfg.MaxLoss = allocations, size, maxLossPercent/100
			case bench.ModeVideo:
				cfg.Calls, cfg.Size = calls, packetSize
			case bench.ModeChurn:
				cfg.Calls = parallel
			}
			if cfg.Mode == bench.ModeVideo && !cmd.Flags().Changed("calls") {
				cfg.Calls = 10
			}
			cfg.Progress = cmd.ErrOrStderr()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := bench.Run(ctx, cfg)
			if err != nil {
				return err
			}
			if jsonOut {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
			}
			printBench(cmd.OutOrStdout(), res)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Server, "server", "127.0.0.1:3478", "TURN server (UDP), or the forwarder with --raw")
	f.StringVar(&cfg.Realm, "realm", "", "realm (else learnt from the 401)")
	f.StringVar(&cfg.Secret, "secret", "", "TURN REST shared secret")
	f.StringVar(&cfg.User, "user", "", "static long-term user name (instead of --secret)")
	f.StringVar(&cfg.Password, "password", "", "static long-term password")
	f.StringVar(&cfg.Peer, "peer", "127.0.0.1:0", "address of the built-in echo peer")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measuring time after setup and a 1s warm-up")
	f.IntVar(&cfg.PID, "pid", 0, "server process id: report its CPU time per relayed packet and its RSS")
	f.BoolVar(&jsonOut, "json", false, "print one JSON object instead of the summary")
	f.BoolVar(&cfg.Raw, "raw", false, "no TURN: packets start with a 4-byte call id, for a bare forwarder")
	f.IntVar(&calls, "calls", 100, "audio and video: number of calls (video's default is 10)")
	f.IntVar(&cfg.PPS, "pps", 50, "audio: packets/s per call and direction")
	f.IntVar(&size, "size", 172, "audio and flood: payload bytes per packet")
	f.IntVar(&allocations, "allocations", 4, "flood: number of allocations")
	f.IntVar(&cfg.Rate, "rate", 0, "flood: packets/s per allocation, 0 = as fast as possible (with --max-loss: the first rate tried)")
	f.Float64Var(&maxLossPercent, "max-loss", 0, "flood: search for the highest rate whose loss stays within this many percent")
	f.IntVar(&cfg.SearchSteps, "search-steps", 0, "flood --max-loss: bisection steps after doubling (default 4)")
	f.DurationVar(&cfg.FrameInterval, "frame-interval", 33*time.Millisecond, "video: time between frames")
	f.IntVar(&cfg.FrameSize, "frame-size", 30000, "video: bytes per frame")
	f.IntVar(&packetSize, "packet-size", 1200, "video: payload bytes per packet")
	f.IntVar(&parallel, "parallel", 16, "churn: parallel allocate/refresh loops")
	return cmd
}

// printBench writes the human summary of res.
func printBench(w io.Writer, res bench.Result) {
	fmt.Fprintf(w, "%s against %s: %d calls, %.1fs measured\n", res.Mode, res.Server, res.Calls, res.DurationS)
	if res.AllocationsPerS != nil {
		fmt.Fprintf(w, "  allocations/s      %.0f\n", *res.AllocationsPerS)
	}
	if res.Sent != nil && res.Received != nil {
		fmt.Fprintf(w, "  sent / received    %d / %d\n", *res.Sent, *res.Received)
	}
	if res.Loss != nil {
		fmt.Fprintf(w, "  loss               %.4f%%\n", *res.Loss*100)
	}
	if res.RatePerCall != nil {
		fmt.Fprintf(w, "  offered            %.0f packets/s per allocation", *res.RatePerCall)
		switch {
		case res.MaxLoss == nil:
		case res.Loss != nil && *res.Loss <= *res.MaxLoss:
			fmt.Fprintf(w, " (the highest the search found with loss within %.4f%%)", *res.MaxLoss*100)
		default:
			fmt.Fprintf(w, " (the search's first rate: already over the %.4f%% loss bound)", *res.MaxLoss*100)
		}
		fmt.Fprintln(w)
	}
	if res.PPSToPeer != nil && res.PPSToClient != nil {
		fmt.Fprintf(w, "  relayed packets/s  %.0f to peer, %.0f to client\n", *res.PPSToPeer, *res.PPSToClient)
	}
	if l := res.LatencyUS; l != nil {
		fmt.Fprintf(w, "  round trip (us)    p50 %.0f  p99 %.0f  p999 %.0f\n", l.P50, l.P99, l.P999)
	}
	if res.ServerCPUS != nil {
		fmt.Fprintf(w, "  server CPU         %.3f s", *res.ServerCPUS)
		if res.ServerCPUUSPerPacket != nil {
			fmt.Fprintf(w, ", %.3f us per relayed packet", *res.ServerCPUUSPerPacket)
		}
		fmt.Fprintln(w)
	}
	if res.ServerRSSBytes != nil {
		fmt.Fprintf(w, "  server RSS         %.1f MiB\n", float64(*res.ServerRSSBytes)/(1<<20))
	}
	keys := make([]string, 0, len(res.Errors))
	for k := range res.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  error %-20s %d\n", k, res.Errors[k])
	}
}
