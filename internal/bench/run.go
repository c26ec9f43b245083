package bench

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avedge/avedge/internal/auth"
)

const (
	// setupParallel bounds concurrent allocation setups and teardowns.
	setupParallel = 32
	// drainIdle and drainMax bound the wait for echoes after the window:
	// it ends when all measured packets are back, after drainIdle without
	// progress, or after drainMax.
	drainIdle = 500 * time.Millisecond
	drainMax  = 3 * time.Second
	// credentialSlack is how long issued credentials outlive the run.
	credentialSlack = time.Hour
	// maxCredentialLifetime is the longest lifetime servers accept by
	// default (avedge's auth.max_credential_lifetime).
	maxCredentialLifetime = 8 * time.Hour
	// sendGroups bounds the sender goroutines of paced modes.
	sendGroups = 4
	// firstChannel is the channel every call binds: channel numbers are per
	// allocation (RFC 8656 §12).
	firstChannel = 0x4000
)

// run is the state of one Run.
type run struct {
	cfg    Config
	base   time.Time
	server netip.AddrPort

	// winStart and winEnd bound the measuring window in nanoseconds since
	// base; set before any traffic.
	winStart, winEnd atomic.Int64
	halted           atomic.Bool

	// Measured counters: packets sent, echoed packets seen at the peer and
	// back at the client, all with a send time inside the window.
	sent, toPeer, recv atomic.Uint64
	// Counters over the whole run, for the progress line.
	sentAll, toPeerAll, recvAll, churnAll atomic.Uint64
	churned                               atomic.Uint64
	hist                                  Histogram
	errs                                  errCounts
}

// now returns monotonic nanoseconds since the run's start.
func (r *run) now() int64 { return int64(time.Since(r.base)) }

// inWindow reports whether ts lies in the measuring window.
func (r *run) inWindow(ts int64) bool { return ts >= r.winStart.Load() && ts < r.winEnd.Load() }

// openWindow starts the warm-up now and the measuring window after it.
func (r *run) openWindow() {
	start := r.now() + int64(r.cfg.Warmup)
	r.winEnd.Store(start + int64(r.cfg.Duration))
	r.winStart.Store(start)
}

// sending reports whether senders should go on.
func (r *run) sending() bool { return !r.halted.Load() && r.now() < r.winEnd.Load() }

// Run performs the benchmark cfg describes. It returns early with ctx's
// error when ctx ends.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.validate(); err != nil {
		return Result{}, err
	}
	if cfg.Mode == ModeFlood && cfg.MaxLoss > 0 {
		return search(ctx, cfg, runOnce)
	}
	return runOnce(ctx, cfg)
}

// runOnce performs one run of the validated cfg.
func runOnce(ctx context.Context, cfg Config) (Result, error) {
	server, err := resolve(cfg.Server)
	if err != nil {
		return Result{}, err
	}
	r := &run{cfg: cfg, base: time.Now(), server: server}
	if cfg.Mode == ModeChurn {
		return r.churn(ctx)
	}
	return r.media(ctx)
}

// resolve parses HOST:PORT, looking the host up if needed.
func resolve(s string) (netip.AddrPort, error) {
	a, err := net.ResolveUDPAddr("udp", s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: address %q: %w", ErrConfig, s, err)
	}
	ap := a.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// credentialFor returns call i's credentials.
func (r *run) credentialFor(i int) (credentials, error) {
	if r.cfg.Secret == "" {
		return credentials{r.cfg.User, r.cfg.Password}, nil
	}
	ttl := min(r.cfg.Warmup+r.cfg.Duration+credentialSlack, maxCredentialLifetime)
	u, p, err := auth.Issue(auth.Secret{Value: []byte(r.cfg.Secret)}, "bench"+strconv.Itoa(i), time.Now().Add(ttl))
	if err != nil {
		return credentials{}, fmt.Errorf("%w: credentials: %w", ErrConfig, err)
	}
	return credentials{u, p}, nil
}

// shape returns the media pattern of the mode.
func (r *run) shape() shape {
	c := r.cfg
	switch c.Mode {
	case ModeAudio:
		return shape{period: time.Second / time.Duration(c.PPS), burst: 1, size: c.Size}
	case ModeVideo:
		return shape{period: c.FrameInterval, burst: (c.FrameSize + c.Size - 1) / c.Size, size: c.Size}
	}
	switch {
	case c.Rate == 0:
		return shape{burst: 32, size: c.Size}
	case c.Rate >= 1000:
		// Bursts about a millisecond apart, spaced so that the rate is exact.
		burst := c.Rate / 1000
		return shape{period: time.Second * time.Duration(burst) / time.Duration(c.Rate), burst: burst, size: c.Size}
	}
	return shape{period: time.Second / time.Duration(c.Rate), burst: 1, size: c.Size}
}

// media runs audio, video or flood.
func (r *run) media(ctx context.Context) (Result, error) {
	sh := r.shape()
	maxPacket := 4 + sh.size + 64
	peerLocal, err := resolve(r.cfg.Peer)
	if err != nil {
		return Result{}, err
	}
	// Nothing is measured before the window is set.
	r.winStart.Store(-1)
	r.winEnd.Store(-1)
	peer, err := startPeer(r, peerLocal, maxPacket)
	if err != nil {
		return Result{}, err
	}
	defer peer.close()
	calls := r.setup(ctx, peer.addr)
	defer r.teardown(calls)
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("bench: %w", err)
	}
	if len(calls) == 0 {
		return Result{}, fmt.Errorf("%w: no call could be set up: %v", ErrRejected, r.errs.snapshot())
	}
	r.openWindow()
	for _, c := range calls {
		go r.receive(c, maxPacket)
	}
	var senders sync.WaitGroup
	groups := len(calls)
	if sh.period > 0 {
		groups = min(groups, sendGroups)
	}
	for g := range groups {
		var mine []*call
		for i := g; i < len(calls); i += groups {
			mine = append(mine, calls[i])
		}
		senders.Go(func() { r.sendGroup(mine, sh) })
	}
	stopProgress := r.progress(ctx)
	res, werr := r.measure(ctx)
	senders.Wait()
	r.drain(ctx)
	stopProgress()
	for _, c := range calls {
		c.stop.Store(true)
		_ = c.sock.conn.SetReadDeadline(time.Now())
	}
	for _, c := range calls {
		<-c.done
		_ = c.sock.conn.SetReadDeadline(time.Time{})
	}
	if werr != nil {
		return Result{}, werr
	}
	res.Calls = len(calls)
	sent, recv, toPeer := r.sent.Load(), r.recv.Load(), r.toPeer.Load()
	res.Sent, res.Received = &sent, &recv
	if sent > 0 {
		res.Loss = ptr(1 - float64(min(recv, sent))/float64(sent))
	}
	secs := r.cfg.Duration.Seconds()
	res.PPSToPeer, res.PPSToClient = ptr(float64(toPeer)/secs), ptr(float64(recv)/secs)
	if r.hist.Count() > 0 {
		us := func(q float64) float64 { return float64(r.hist.Quantile(q)) / 1e3 }
		res.LatencyUS = &Latency{P50: us(0.5), P99: us(0.99), P999: us(0.999)}
	}
	if relayed := float64(toPeer + recv); relayed > 0 {
		perPacket := func(s *float64) *float64 {
			if s == nil {
				return nil
			}
			return ptr(*s * 1e6 / relayed)
		}
		res.ServerCPUUSPerPacket = perPacket(res.ServerCPUS)
		res.MachineCPUUSPerPacket = perPacket(res.MachineCPUS)
		res.GeneratorCPUUSPerPacket = perPacket(res.GeneratorCPUS)
		if res.ServerCPUS != nil && res.GeneratorCPUS != nil && res.SoftirqdCPUS != nil {
			res.AccountedCPUUSPerPacket = perPacket(ptr(*res.ServerCPUS + *res.GeneratorCPUS + *res.SoftirqdCPUS))
		}
	}
	if r.cfg.Mode == ModeFlood && r.cfg.Rate > 0 {
		res.RatePerCall = ptr(float64(r.cfg.Rate))
	}
	res.Errors = r.errs.snapshot()
	return res, nil
}

// setup opens the calls: sockets, and unless raw, an allocation each with
// a channel bound to peer. Calls that fail are counted and left out.
func (r *run) setup(ctx context.Context, peer netip.AddrPort) []*call {
	calls := make([]*call, r.cfg.Calls)
	dst := net.UDPAddrFromAddrPort(r.server)
	sem := make(chan struct{}, setupParallel)
	var wg sync.WaitGroup
	for i := range calls {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			calls[i] = r.setupCall(i, dst, peer)
		})
	}
	wg.Wait()
	ok := calls[:0]
	for _, c := range calls {
		if c != nil {
			ok = append(ok, c)
		}
	}
	return ok
}

// setupCall opens call i, or counts why it could not.
func (r *run) setupCall(i int, dst *net.UDPAddr, peer netip.AddrPort) *call {
	c := &call{id: uint32(i + 1), dst: dst, done: make(chan struct{})}
	if r.cfg.Raw {
		s, err := listenFor(r.server)
		if err != nil {
			r.errs.add("setup", err)
			return nil
		}
		c.sock = s
		return c
	}
	cred, err := r.credentialFor(i)
	if err != nil {
		r.errs.add("setup", err)
		return nil
	}
	tc, err := newTurnClient(r.server, cred, r.cfg.Realm)
	if err != nil {
		r.errs.add("setup", err)
		return nil
	}
	if _, err := tc.allocate(); err != nil {
		r.errs.add("allocate", err)
		_ = tc.close()
		return nil
	}
	if err := tc.channelBind(firstChannel, peer); err != nil {
		r.errs.add("channel bind", err)
		_ = tc.refresh(0)
		_ = tc.close()
		return nil
	}
	// The transactions left a read deadline; the receiver blocks until
	// the run stops it.
	if err := tc.sock.conn.SetReadDeadline(time.Time{}); err != nil {
		r.errs.add("setup", err)
		_ = tc.close()
		return nil
	}
	c.sock, c.tc, c.channel = tc.sock, tc, firstChannel
	return c
}

// teardown deletes the allocations (Refresh with lifetime 0) and closes the
// sockets.
func (r *run) teardown(calls []*call) {
	sem := make(chan struct{}, setupParallel)
	var wg sync.WaitGroup
	for _, c := range calls {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if c.tc != nil {
				if err := c.tc.refresh(0); err != nil {
					r.errs.add("teardown", err)
				}
			}
			_ = c.sock.conn.Close()
		})
	}
	wg.Wait()
}

// measure waits for the window, sampling the server process, the whole
// machine's CPU time, this process's and the ksoftirqd threads' at its
// start and end, and returns
// the partial result. It halts the run when ctx ends.
func (r *run) measure(ctx context.Context) (Result, error) {
	res := Result{Mode: string(r.cfg.Mode), Server: r.cfg.Server, DurationS: r.cfg.Duration.Seconds()}
	if err := r.sleepUntil(ctx, r.winStart.Load()); err != nil {
		return res, err
	}
	before := r.sample()
	if err := r.sleepUntil(ctx, r.winEnd.Load()); err != nil {
		return res, err
	}
	after := r.sample()
	if before.serverErr == nil && after.serverErr == nil && r.cfg.PID > 0 {
		res.ServerCPUS = ptr((after.server.CPU - before.server.CPU).Seconds())
		res.ServerRSSBytes = ptr(after.server.RSS)
	}
	if err := cmp.Or(before.serverErr, after.serverErr); err != nil {
		r.errs.add("server stats", err)
	}
	if before.machineErr == nil && after.machineErr == nil {
		busy := after.machine.Busy - before.machine.Busy
		res.MachineCPUS = ptr(busy.Seconds())
		if total := after.machine.Total - before.machine.Total; total > 0 {
			res.MachineBusy = ptr(busy.Seconds() / total.Seconds())
		}
	}
	if err := cmp.Or(before.machineErr, after.machineErr); err != nil {
		r.errs.add("machine stats", err)
	}
	if before.selfErr == nil && after.selfErr == nil {
		res.GeneratorCPUS = ptr((after.self.CPU - before.self.CPU).Seconds())
	}
	if err := cmp.Or(before.selfErr, after.selfErr); err != nil {
		r.errs.add("generator stats", err)
	}
	if before.softirqdErr == nil && after.softirqdErr == nil {
		res.SoftirqdCPUS = ptr((after.softirqd - before.softirqd).Seconds())
	}
	if err := cmp.Or(before.softirqdErr, after.softirqdErr); err != nil {
		r.errs.add("softirqd stats", err)
	}
	return res, nil
}

// cpuSample is one reading of the server process (with Config.PID), the
// whole machine, this process and the ksoftirqd threads.
type cpuSample struct {
	server, self                                ProcSample
	machine                                     MachineCPU
	softirqd                                    time.Duration
	serverErr, machineErr, selfErr, softirqdErr error
}

// sample reads the CPU counters that measure compares.
func (r *run) sample() cpuSample {
	var s cpuSample
	if r.cfg.PID > 0 {
		s.server, s.serverErr = ReadProc(r.cfg.PID)
	}
	s.machine, s.machineErr = ReadMachineCPU()
	s.self, s.selfErr = ReadProc(os.Getpid())
	s.softirqd, s.softirqdErr = ReadSoftirqd()
	return s
}

// sleepUntil sleeps until r.now() reaches t, or halts the run and returns
// ctx's error.
func (r *run) sleepUntil(ctx context.Context, t int64) error {
	d := t - r.now()
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(time.Duration(d))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		r.halted.Store(true)
		return fmt.Errorf("bench: %w", ctx.Err())
	}
}

// drain waits for the echoes of the measured packets (see drainIdle).
func (r *run) drain(ctx context.Context) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start, last, lastAt := r.now(), r.recv.Load(), r.now()
	for r.recv.Load() < r.sent.Load() {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := r.now()
		if n := r.recv.Load(); n != last {
			last, lastAt = n, now
		}
		if now-lastAt > int64(drainIdle) || now-start > int64(drainMax) {
			return
		}
	}
}
