package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/avedge/avedge/internal/bench"
	"github.com/avedge/avedge/internal/config"
)

// benchWarmup is the unmeasured time before the window.
const benchWarmup = time.Second

func newBenchCmd() *cobra.Command {
	cfg := bench.Config{Warmup: benchWarmup}
	var jsonOut bool
	var secretFile string
	var calls, allocations, parallel, size, packetSize int
	var maxLossPercent float64
	cmd := &cobra.Command{
		Use:   "bench audio|flood|video|churn",
		Short: "Load a TURN server (or a bare forwarder with --raw) and report rates, loss and latency",
		Long: `Run a real TURN client load against a server over UDP and report relayed
packets/s each way, loss and round-trip latency (p50/p99/p999), the server's
CPU time per relayed packet and memory (with --pid), or allocations/s (churn).
The whole machine's CPU time (/proc/stat, all cores, softirq included) and
this bench's own, per relayed packet, show what work the kernel did outside
the server's process and how much of the machine the load generator took;
with --pid, the server's, this bench's and the kernel's ksoftirqd threads'
CPU time per relayed packet leaves out the other processes of a shared
machine.

  audio   --calls N allocations, each sending --pps packets/s of --size bytes
          over a channel to the built-in echo peer
  flood   --allocations K sending as fast as possible (or --rate pps each);
          with --max-loss, a rate search: the highest rate whose loss
          stays within the bound (doubling from --rate, then bisecting)
  video   --calls N, a --frame-size burst every --frame-interval in
          --packet-size packets
  churn   --parallel P loops of Allocate (401 round trip) and Refresh 0

Credentials: --secret-file (or --secret, which other users of this machine
can see in ps) makes TURN REST usernames "<expiry>:benchN"; the file holds the
secret as a secret_file of the configuration does, so the development edge's
dev.secret file can be given as is. --password, too, shows in ps.`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"audio", "flood", "video", "churn"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if secretFile != "" {
				if cfg.Secret != "" {
					return errors.New("give --secret or --secret-file, not both")
				}
				s, err := readBenchSecret(secretFile)
				if err != nil {
					return fmt.Errorf("--secret-file: %w", err)
				}
				cfg.Secret = s
			}
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
	f.StringVar(&cfg.Secret, "secret", "", "TURN REST shared secret (other users of this machine can see it in ps: prefer --secret-file)")
	f.StringVar(&secretFile, "secret-file", "", "file holding the TURN REST shared secret (one trailing newline is dropped)")
	f.StringVar(&cfg.User, "user", "", "static long-term user name (instead of --secret)")
	f.StringVar(&cfg.Password, "password", "", "static long-term password (other users of this machine can see it in ps)")
	f.StringVar(&cfg.Peer, "peer", "127.0.0.2:0", "address of the built-in echo peer (not the edge's own address, which it refuses as a peer)")
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
	f.StringVar((*string)(&cfg.Arrivals), "arrivals", string(bench.ArrivalsSpread),
		"paced calls: spread (each call once a period, at evenly spread phases) or poisson (independent exponential intervals)")
	return cmd
}

// readBenchSecret returns the secret of --secret-file, read as the
// configuration reads a secret_file.
func readBenchSecret(path string) (string, error) {
	b, _, err := config.ReadSecretFile(path)
	switch {
	case err != nil:
		return "", err
	case len(b) == 0:
		return "", fmt.Errorf("%s is empty", path)
	}
	return string(b), nil
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
	if res.MachineCPUS != nil {
		fmt.Fprintf(w, "  machine CPU        %.3f s", *res.MachineCPUS)
		if res.MachineBusy != nil {
			fmt.Fprintf(w, " (%.0f%% of all cores)", *res.MachineBusy*100)
		}
		if res.MachineCPUUSPerPacket != nil {
			fmt.Fprintf(w, ", %.3f us per relayed packet", *res.MachineCPUUSPerPacket)
		}
		fmt.Fprintln(w)
	}
	if res.GeneratorCPUS != nil {
		fmt.Fprintf(w, "  this bench's CPU   %.3f s", *res.GeneratorCPUS)
		if res.GeneratorCPUUSPerPacket != nil {
			fmt.Fprintf(w, ", %.3f us per relayed packet", *res.GeneratorCPUUSPerPacket)
		}
		fmt.Fprintln(w)
	}
	if res.AccountedCPUUSPerPacket != nil {
		fmt.Fprintf(w, "  server+bench+ksoftirqd CPU %.3f us per relayed packet\n", *res.AccountedCPUUSPerPacket)
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
