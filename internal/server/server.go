package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/policy"
)

var (
	// ErrNoListeners is returned by New when no client listener could be bound.
	ErrNoListeners = errors.New("server: no listener could be opened")
	// ErrStarted is returned by Run on a server that already ran or was closed.
	ErrStarted = errors.New("server: already started or closed")
)

// Options configures a Server. Build it with FromConfig or by hand in tests.
type Options struct {
	// Software is the SOFTWARE attribute of responses; empty leaves it out.
	Software string
	// Listeners are the UDP addresses clients reach; port 0 picks a free port.
	Listeners []netip.AddrPort
	// SkipUnavailable skips a listener whose address the host lacks (such as
	// ::1 on a host without IPv6) instead of failing.
	SkipUnavailable bool
	// RelayAddr is the IPv4 address relay sockets bind to and advertise.
	RelayAddr netip.Addr
	// PortMin and PortMax bound the relay port range.
	PortMin, PortMax int
	// Allocation holds lifetimes and per-allocation caps.
	Allocation allocation.Config
	// AllocationsPerUser and AllocationsTotal are the quotas (486 and 508).
	AllocationsPerUser, AllocationsTotal int
	// Auth checks credentials and issues nonces.
	Auth *auth.Authenticator
	// Keyring holds the active shared secrets that Auth checks against
	// (nil with static users only). FromConfig sets it so that the caller
	// can reload secrets (Keyring.Set) and sign credentials with the same
	// keys; the server itself reads secrets only through Auth.
	Keyring *auth.Keyring
	// Policy decides which peers may be relayed to.
	Policy *policy.PeerPolicy
	// Workers is the number of packet workers; 0 means one per CPU.
	Workers int
	// Clock is the time source; nil means the wall clock.
	Clock clock.Clock
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// OnAllocationEnd, if set, is called on the worker goroutine for every
	// allocation that ends. It must not block.
	OnAllocationEnd func(Record)
}

// shared is the read-only environment and the few concurrency-safe pieces
// that every worker uses.
type shared struct {
	software  stun.Setter
	auth      *auth.Authenticator
	policy    *policy.PeerPolicy
	pool      *allocation.PortPool
	quota     *allocation.Quota
	alloc     allocation.Config
	relayAddr netip.Addr
	clock     clock.Clock
	log       *slog.Logger
	onEnd     func(Record)
}

// Server is a running STUN/TURN relay over UDP.
type Server struct {
	env     *shared
	workers []*workerLoop
	addrs   []netip.AddrPort

	mu          sync.Mutex
	started     bool
	cancel      context.CancelFunc
	done        chan struct{}
	releaseOnce sync.Once
}

// workerLoop pairs a worker's handler with its datapath loop.
type workerLoop struct {
	w         *worker
	dp        *datapath.Worker
	listeners []*datapath.Conn
}

// New binds the listeners of opts and prepares the workers; Run starts them.
func New(opts Options) (*Server, error) {
	if opts.Auth == nil || opts.Policy == nil {
		return nil, errors.New("server: Auth and Policy are required")
	}
	if !opts.RelayAddr.Is4() {
		return nil, fmt.Errorf("server: relay address %v: only IPv4 relays are supported", opts.RelayAddr)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	pool, err := allocation.NewPortPool(opts.PortMin, opts.PortMax, nil)
	if err != nil {
		return nil, fmt.Errorf("server: relay ports: %w", err)
	}
	env := &shared{
		auth:      opts.Auth,
		policy:    opts.Policy,
		pool:      pool,
		quota:     allocation.NewQuota(opts.AllocationsPerUser, opts.AllocationsTotal),
		alloc:     opts.Allocation,
		relayAddr: opts.RelayAddr,
		clock:     clk,
		log:       log,
		onEnd:     opts.OnAllocationEnd,
	}
	if opts.Software != "" {
		env.software = stun.NewSoftware(opts.Software)
	}
	n := opts.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	s := &Server{env: env}
	for range n {
		w := newWorker(env, nil)
		dp, err := datapath.NewWorker(w, datapath.WorkerOptions{Clock: clk})
		if err != nil {
			s.release()
			return nil, fmt.Errorf("server: %w", err)
		}
		w.relays = &dpRelays{dp: dp}
		s.workers = append(s.workers, &workerLoop{w: w, dp: dp})
	}
	if err := s.listen(opts.Listeners, opts.SkipUnavailable); err != nil {
		s.release()
		return nil, err
	}
	return s, nil
}

// listen binds one SO_REUSEPORT socket per worker for each address; the
// kernel spreads clients over them by their address, so a client's packets
// always reach the worker that holds its allocation.
func (s *Server) listen(addrs []netip.AddrPort, skipUnavailable bool) error {
	for _, addr := range addrs {
		bound := addr
		ok := true
		for i, wl := range s.workers {
			c, err := datapath.ListenUDP(bound, datapath.ListenConfig{ReusePort: true, RecvBuffer: 4 << 20, SendBuffer: 4 << 20})
			if err != nil {
				if i == 0 && skipUnavailable && errors.Is(err, datapath.ErrAddrNotAvailable) {
					s.env.log.Warn("listener skipped: address not available on this host", "address", addr)
					ok = false
					break
				}
				return fmt.Errorf("server: listen udp %v: %w", addr, err)
			}
			bound = c.LocalAddr()
			c.Owner = &listener{sock: c, addr: bound}
			if err := wl.dp.Add(c); err != nil {
				c.Close()
				return fmt.Errorf("server: listen udp %v: %w", addr, err)
			}
			wl.listeners = append(wl.listeners, c)
		}
		if ok {
			s.addrs = append(s.addrs, bound)
		}
	}
	if len(s.addrs) == 0 {
		return ErrNoListeners
	}
	return nil
}

// Addrs returns the bound client addresses (with the ports the kernel chose
// for port 0).
func (s *Server) Addrs() []netip.AddrPort { return append([]netip.AddrPort(nil), s.addrs...) }

// Run serves until ctx is done, Close is called or a worker fails, then
// ends every allocation and closes the sockets. A Server runs once.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return ErrStarted
	}
	s.started, s.cancel, s.done = true, cancel, make(chan struct{})
	s.mu.Unlock()
	defer close(s.done)

	errc := make(chan error, len(s.workers))
	for _, wl := range s.workers {
		go func() { errc <- wl.dp.Run(ctx) }()
	}
	var first error
	for range s.workers {
		if err := <-errc; err != nil && !errors.Is(err, context.Canceled) && first == nil {
			first = fmt.Errorf("server: worker: %w", err)
			cancel()
		}
	}
	s.release()
	return first
}

// Close stops a running server and waits for Run to return, or releases the
// sockets of one that never ran. It is safe to call more than once and from
// any goroutine.
func (s *Server) Close() {
	s.mu.Lock()
	started, cancel, done := s.started, s.cancel, s.done
	s.started = true // a Run after Close refuses to start
	s.mu.Unlock()
	if started && cancel != nil {
		cancel()
		<-done
		return
	}
	s.release()
}

// release ends every allocation and closes all sockets, once. The workers'
// loops must have stopped: it touches their state from the caller's
// goroutine.
func (s *Server) release() {
	s.releaseOnce.Do(func() {
		for _, wl := range s.workers {
			var sessions []*session
			wl.w.table.Range(func(a *allocation.Allocation) bool {
				sessions = append(sessions, a.Relay.(*session))
				return true
			})
			for _, ss := range sessions {
				wl.w.closeSession(ss, "shutdown")
			}
			_ = wl.dp.Close() // deregisters the listeners; they are closed after
			for _, c := range wl.listeners {
				_ = c.Close()
			}
		}
	})
}

// Stats sums the counters of all workers.
func (s *Server) Stats() Stats {
	var st Stats
	for _, wl := range s.workers {
		st.add(&wl.w.c)
		st.DataPath = st.DataPath.Add(wl.dp.Stats())
	}
	return st
}

// Tick implements datapath.Handler: it ends expired allocations.
func (w *worker) Tick(now time.Time) {
	w.table.Expire(now, func(a *allocation.Allocation) {
		w.endSession(a.Relay.(*session), "expired")
	})
}

// dpRelays opens relay sockets on a datapath worker.
type dpRelays struct{ dp *datapath.Worker }

func (r *dpRelays) open(addr netip.AddrPort, s *session) (socket, error) {
	c, err := datapath.ListenUDP(addr, datapath.ListenConfig{})
	if err != nil {
		return nil, err
	}
	c.Owner = s
	if err := r.dp.Add(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (r *dpRelays) close(s *session) {
	c, ok := s.relay.(*datapath.Conn)
	if !ok {
		return
	}
	_ = r.dp.Remove(c)
	_ = c.Close()
}

// txKeyMix keys the Data indication transaction IDs of this process.
var txKeyMix = func() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}()
