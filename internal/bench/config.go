package bench

import (
	"fmt"
	"io"
	"time"
)

// Mode is a benchmark mode.
type Mode string

// The modes of "avedge bench".
const (
	// ModeAudio runs Calls allocations each sending PPS packets/s of Size bytes.
	ModeAudio Mode = "audio"
	// ModeFlood runs Calls allocations sending as fast as possible (or Rate).
	ModeFlood Mode = "flood"
	// ModeVideo runs Calls allocations each sending a FrameSize burst every
	// FrameInterval in packets of Size bytes.
	ModeVideo Mode = "video"
	// ModeChurn runs Parallel loops of Allocate (with the 401 round trip)
	// and Refresh with lifetime 0.
	ModeChurn Mode = "churn"
)

// maxSize bounds a packet's payload: a UDP datagram over loopback.
const maxSize = 65000

// maxCalls bounds the number of allocations or parallel loops.
const maxCalls = 100000

// Config describes one benchmark run.
type Config struct {
	// Mode is what to run.
	Mode Mode
	// Server is the TURN server (or, with Raw, the forwarder), HOST:PORT.
	Server string
	// Realm is the realm; empty learns it from the 401.
	Realm string
	// Secret is a TURN REST shared secret: the bench issues "<expiry>:benchN"
	// credentials with it.
	Secret string
	// User and Password are static long-term credentials, used when Secret
	// is empty.
	User, Password string
	// Peer is where the built-in echo peer listens.
	Peer string
	// Duration is the measuring time, after Warmup.
	Duration time.Duration
	// Warmup is the time before measuring starts.
	Warmup time.Duration
	// PID, if above 0, is the server process whose CPU time and RSS are read.
	PID int
	// Raw sends to a bare forwarder instead of a TURN server.
	Raw bool
	// Calls is the number of allocations (audio, video, flood) or of
	// parallel loops (churn).
	Calls int
	// PPS is the packet rate per call of audio.
	PPS int
	// Size is the payload size of audio and flood packets and the packet
	// size of video.
	Size int
	// Rate is flood's packets/s per allocation; 0 is as fast as possible.
	// With MaxLoss, it is the search's first rate (0: 1000).
	Rate int
	// MaxLoss, when above 0, makes flood a rate search: the highest Rate
	// whose loss (a fraction) stays at or below MaxLoss.
	MaxLoss float64
	// SearchSteps is the number of bisection steps of the search after
	// the doubling phase (0: 4).
	SearchSteps int
	// FrameInterval and FrameSize shape video: a FrameSize-byte burst every
	// FrameInterval.
	FrameInterval time.Duration
	FrameSize     int
	// Arrivals is when paced calls (audio, video, flood with a Rate)
	// send: ArrivalsSpread (the default, "") or ArrivalsPoisson.
	Arrivals Arrivals
	// Progress, if set, receives one line per second.
	Progress io.Writer
}

// Arrivals is the timing of paced calls' packets.
type Arrivals string

// The arrival timings.
const (
	// ArrivalsSpread sends every call once a period, the calls at evenly
	// spread phases of it (in slots of a millisecond).
	ArrivalsSpread Arrivals = "spread"
	// ArrivalsPoisson sends each call's bursts at independent exponential
	// intervals whose mean is the period (a Poisson process per call), so
	// that no schedule lines packets up for the server to batch.
	ArrivalsPoisson Arrivals = "poisson"
)

// validate checks c.
func (c *Config) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch c.Mode {
	case ModeAudio, ModeFlood, ModeVideo:
	case ModeChurn:
		if c.Raw {
			return bad("churn needs a TURN server, not --raw")
		}
	default:
		return bad("unknown mode %q (audio, flood, video, churn)", c.Mode)
	}
	if !c.Raw && c.Secret == "" && (c.User == "" || c.Password == "") {
		return bad("need --secret or --user and --password")
	}
	if c.Duration <= 0 || c.Warmup < 0 {
		return bad("duration must be above 0")
	}
	if c.Calls < 1 || c.Calls > maxCalls {
		return bad("need 1..%d calls", maxCalls)
	}
	if c.Mode == ModeChurn {
		return nil
	}
	switch c.Arrivals {
	case "", ArrivalsSpread, ArrivalsPoisson:
	default:
		return bad("unknown arrivals %q (spread, poisson)", c.Arrivals)
	}
	if c.Size < payloadHeader || c.Size > maxSize {
		return bad("size must be %d..%d bytes", payloadHeader, maxSize)
	}
	switch c.Mode {
	case ModeAudio:
		if c.PPS < 1 || c.PPS > 100000 {
			return bad("pps must be 1..100000")
		}
	case ModeFlood:
		if c.Rate < 0 || c.Rate > 10000000 {
			return bad("rate must be 0..10000000")
		}
		if c.MaxLoss < 0 || c.MaxLoss >= 1 || c.SearchSteps < 0 || c.SearchSteps > 20 {
			return bad("max loss must be 0..1 (exclusive) and search steps 0..20")
		}
	case ModeVideo:
		if c.FrameInterval < time.Millisecond || c.FrameSize < 1 || c.FrameSize > 100*maxSize {
			return bad("frame interval must be at least 1ms and frame size 1..%d", 100*maxSize)
		}
	}
	return nil
}
